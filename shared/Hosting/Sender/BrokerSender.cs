using MassTransit;

namespace Treecast.Hosting.Sender;

/// <summary>Who the broker says sent a message.</summary>
public static class BrokerSender
{
    /// <summary>
    /// The AMQP <c>user_id</c> of a message received over RabbitMQ: the login of the account that published it, as RabbitMQ
    /// checked it (it refuses a publish that names another user). Null when the message carries none, or did not come
    /// over RabbitMQ.
    /// </summary>
    public static string? UserId(ConsumeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ReceiveContext.TryGetPayload(out RabbitMqBasicConsumeContext? delivery) && delivery.Properties.IsUserIdPresent()
            ? delivery.Properties.UserId
            : null;
    }
}
