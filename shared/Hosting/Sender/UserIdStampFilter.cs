using MassTransit;

namespace Treecast.Hosting.Sender;

/// <summary>
/// Stamps AMQP <c>user_id</c> with the user the bus logs in as on every message it sends or publishes over RabbitMQ.
/// RabbitMQ refuses a publish whose <c>user_id</c> names anyone but the publisher's own login, so a receiver can trust it
/// (<see cref="BrokerSender.UserId"/>): the agents accept commands only from the commanding account this way.
/// </summary>
public sealed class UserIdStampFilter(string user) : IFilter<SendContext>, IFilter<PublishContext>
{
    public Task Send(SendContext context, IPipe<SendContext> next)
    {
        Stamp(context);
        return next.Send(context);
    }

    public Task Send(PublishContext context, IPipe<PublishContext> next)
    {
        Stamp(context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("userIdStamp");

    private void Stamp(SendContext context)
    {
        if (context.TryGetPayload(out RabbitMqSendContext? rabbitMq))
        {
            rabbitMq.BasicProperties.UserId = user;
        }
    }
}
