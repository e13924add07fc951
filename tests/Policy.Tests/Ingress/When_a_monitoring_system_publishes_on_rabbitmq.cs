using System.Text;
using RabbitMQ.Client;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Tests.Support;
using Treecast.TestSupport;

namespace Treecast.Policy.Tests.Ingress;

/// <summary>An outside monitoring system on a real broker: plain JSON on the fanout exchange, no MassTransit.</summary>
public sealed class When_a_monitoring_system_publishes_on_rabbitmq(RabbitMqBroker broker) : IClassFixture<RabbitMqBroker>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _vmm = $"host-{Guid.NewGuid():N}";

    [SkippableFact]
    public async Task Should_start_a_broadcast_from_plain_json_and_put_bad_events_in_the_error_queue()
    {
        var uri = broker.Require();
        await using var service = await PolicyServiceHost.StartAsync(Yaml.Degraded, uri);
        await using var connection = await new ConnectionFactory { Uri = uri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();

        await MonitoringSystem.PublishAsync(channel, $$"""{"type":"host.degraded","vmm":"{{_vmm}}","severity":"critical","eventId":"{{_vmm}}-1"}""");
        var broadcast = await service.Recorder.WaitFor<BroadcastRequested>(b => b.RootVmmId == _vmm, Timeout);
        Assert.Equal(3, broadcast.FanOut);
        Assert.Equal(256 * 1024, broadcast.ChunkSizeBytes);
        Assert.Equal(DeterministicGuid.ForBroadcast("broadcast-on-degraded-host", $"{_vmm}-1", 0), broadcast.OperationId);

        var notJson = $$"""{"type":"host.degraded","vmm":"{{_vmm}}-broken",""";
        await MonitoringSystem.PublishAsync(channel, notJson);
        var unknownType = $$"""{"type":"host.exploded","vmm":"{{_vmm}}"}""";
        await MonitoringSystem.PublishAsync(channel, unknownType);

        var faulted = await ErrorQueueMessagesAsync(connection, [notJson, unknownType]);
        Assert.True(faulted.ContainsKey(notJson), "the unparseable event is not in the error queue");
        Assert.True(faulted.TryGetValue(unknownType, out var unknownFaulted), "the unknown event type is not in the error queue");
        Assert.Contains(typeof(MalformedExternalEventException).FullName!, Header(unknownFaulted, "MT-Fault-ExceptionType"), StringComparison.Ordinal);
        Assert.Contains("unknown event type 'host.exploded'", Header(unknownFaulted, "MT-Fault-Message"), StringComparison.Ordinal);

        // The service carries on after bad input.
        await MonitoringSystem.PublishAsync(channel, $$"""{"type":"host.degraded","vmm":"{{_vmm}}-after","severity":"major"}""");
        await service.Recorder.WaitFor<BroadcastRequested>(b => b.RootVmmId == $"{_vmm}-after", Timeout);
    }

    /// <summary>Takes messages off the error queue until those with these bodies have arrived.</summary>
    private static async Task<Dictionary<string, BasicGetResult>> ErrorQueueMessagesAsync(IConnection connection, string[] bodies)
    {
        var found = new Dictionary<string, BasicGetResult>();
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline && found.Count < bodies.Length)
        {
            var message = await TryBasicGetAsync(connection, $"{Addresses.PolicyExternalEventsQueue}_error");
            if (message is null)
            {
                await Task.Delay(100);
                continue;
            }

            var body = Encoding.UTF8.GetString(message.Body.Span);
            if (bodies.Contains(body))
            {
                found[body] = message;
            }
        }

        return found;
    }

    // The error queue exists only once MassTransit has moved a first message there; asking for a queue
    // that does not exist closes the channel, so ask on a throwaway one.
    private static async Task<BasicGetResult?> TryBasicGetAsync(IConnection connection, string queue)
    {
        await using var probe = await connection.CreateChannelAsync();
        try
        {
            return await probe.BasicGetAsync(queue, autoAck: true);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    private static string Header(BasicGetResult message, string name) =>
        message.BasicProperties.Headers?.TryGetValue(name, out var value) == true && value is byte[] bytes
            ? Encoding.UTF8.GetString(bytes)
            : $"(no {name} header)";
}
