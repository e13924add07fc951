using System.Text;
using RabbitMQ.Client;
using Treecast.Contracts;

namespace Treecast.Policy.Tests.Support;

/// <summary>An outside monitoring system: plain JSON on the external events exchange, no MassTransit.</summary>
public static class MonitoringSystem
{
    public static async Task PublishAsync(IChannel channel, string json)
    {
        ArgumentNullException.ThrowIfNull(channel);
        await channel.BasicPublishAsync(
            Addresses.ExternalEventsExchange,
            routingKey: string.Empty,
            mandatory: false,
            new BasicProperties { ContentType = "application/json", Persistent = true },
            Encoding.UTF8.GetBytes(json));
    }
}
