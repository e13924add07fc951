using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// What an account can do on the broker when it talks AMQP itself, with no Treecast code in the way: publish a message
/// (a command in MassTransit's JSON envelope, with the user_id it chooses) and bind a queue. Each answers how the broker
/// took it: null when it let it through, or the reason it closed the channel.
/// </summary>
public static class BrokerClient
{
    /// <summary>
    /// Publishes <paramref name="message"/> as MassTransit would put it on the wire, to <paramref name="exchange"/> (the
    /// default exchange, "", routes by <paramref name="routingKey"/>), waiting for the broker's confirm.
    /// </summary>
    public static async Task<ShutdownEventArgs?> PublishAsync(
        Uri account,
        string exchange,
        object message,
        string messageId,
        string? userId,
        string routingKey = "")
    {
        var type = message.GetType();
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new
            {
                messageId,
                messageType = new[] { $"urn:message:{type.Namespace}:{type.Name}" },
                message,
            },
            JsonSerializerOptions.Web);
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            MessageId = messageId,
            Persistent = true,
            UserId = userId,
        };
        return await OnChannelAsync(account, channel => channel.BasicPublishAsync(exchange, routingKey, false, properties, body).AsTask());
    }

    /// <summary>Declares <paramref name="exchange"/> as MassTransit does (a durable fanout), so that a refusal to use it is about access.</summary>
    public static Task<ShutdownEventArgs?> DeclareExchangeAsync(Uri account, string exchange) =>
        OnChannelAsync(account, channel => channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true));

    /// <summary>Declares <paramref name="queue"/> (auto-delete) and binds it to <paramref name="exchange"/>.</summary>
    public static Task<ShutdownEventArgs?> BindAsync(Uri account, string queue, string exchange) =>
        OnChannelAsync(account, async channel =>
        {
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: true);
            await channel.QueueBindAsync(queue, exchange, string.Empty);
        });

    /// <summary>Takes one message off <paramref name="queue"/>, if the account may read it.</summary>
    public static Task<ShutdownEventArgs?> GetAsync(Uri account, string queue) =>
        OnChannelAsync(account, channel => channel.BasicGetAsync(queue, autoAck: false));

    private static async Task<ShutdownEventArgs?> OnChannelAsync(Uri account, Func<IChannel, Task> action)
    {
        var factory = new ConnectionFactory { Uri = account };
        await using var connection = await factory.CreateConnectionAsync();
        // With confirms, a publish the broker refuses fails here instead of closing the channel behind the test's back.
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        try
        {
            await action(channel);
            return channel.CloseReason;
        }
        catch (OperationInterruptedException e)
        {
            return e.ShutdownReason ?? channel.CloseReason;
        }
    }
}
