using MassTransit;
using MassTransit.Context;
using RabbitMQ.Client;

namespace Treecast.Hosting.Sender;

/// <summary>
/// Lets a message another account sent leave its queue for <c>_error</c> or <c>_skipped</c>. MassTransit moves a
/// message by publishing a copy with all its properties, and RabbitMQ refuses a publish whose <c>user_id</c> is not the
/// publisher's own login: a message stamped by another account (a command from the policy service that an agent failed
/// on, or a refused command an agent's own account did not send) would go back to its queue for ever. The copy this
/// filter hands on carries no <c>user_id</c>; the original one goes along in the <see cref="OriginalUserIdHeader"/>
/// header.
/// </summary>
public sealed class MoveWithoutForeignUserIdFilter(string user) : IFilter<ReceiveContext>, IFilter<ExceptionReceiveContext>
{
    public const string OriginalUserIdHeader = "Treecast-Original-UserId";

    public Task Send(ReceiveContext context, IPipe<ReceiveContext> next) =>
        next.Send(Foreign(context) is { } delivery ? new ReceiveWithoutUserId(context, delivery) : context);

    public Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next) =>
        next.Send(Foreign(context) is { } delivery ? new ExceptionWithoutUserId(context, delivery) : context);

    public void Probe(ProbeContext context) => context.CreateFilterScope("moveWithoutForeignUserId");

    private RabbitMqBasicConsumeContext? Foreign(ReceiveContext context) =>
        context.TryGetPayload(out RabbitMqBasicConsumeContext? delivery)
        && delivery.Properties.IsUserIdPresent()
        && !string.Equals(delivery.Properties.UserId, user, StringComparison.Ordinal)
            ? new DeliveryWithoutUserId(delivery)
            : null;

    /// <summary>The delivery as the move transport reads it: the same, less <c>user_id</c>.</summary>
    private sealed class DeliveryWithoutUserId(RabbitMqBasicConsumeContext delivery) : RabbitMqBasicConsumeContext
    {
        public string Exchange => delivery.Exchange;

        public string? RoutingKey => delivery.RoutingKey;

        public string ConsumerTag => delivery.ConsumerTag;

        public ulong DeliveryTag => delivery.DeliveryTag;

        public IReadOnlyBasicProperties Properties { get; } = WithoutUserId(delivery.Properties);

        private static BasicProperties WithoutUserId(IReadOnlyBasicProperties properties)
        {
            var headers = properties.Headers is { } original
                ? new Dictionary<string, object?>(original, StringComparer.OrdinalIgnoreCase)
                : new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            headers[OriginalUserIdHeader] = properties.UserId;
            return new BasicProperties(properties) { UserId = null, Headers = headers };
        }
    }

    private class ReceiveWithoutUserId(ReceiveContext context, RabbitMqBasicConsumeContext delivery) : ReceiveContextProxy(context)
    {
        public override bool TryGetPayload<T>(out T payload)
            where T : class
        {
            if (typeof(T) == typeof(RabbitMqBasicConsumeContext))
            {
                payload = (T)delivery;
                return true;
            }

            return base.TryGetPayload(out payload);
        }
    }

    private sealed class ExceptionWithoutUserId(ExceptionReceiveContext context, RabbitMqBasicConsumeContext delivery)
        : ReceiveWithoutUserId(context, delivery), ExceptionReceiveContext
    {
        public Exception Exception => context.Exception;

        public DateTime ExceptionTimestamp => context.ExceptionTimestamp;

        public ExceptionInfo ExceptionInfo => context.ExceptionInfo;

        public SendHeaders ExceptionHeaders => context.ExceptionHeaders;
    }
}
