using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Treecast.Contracts;
using Treecast.TestSupport;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>On RabbitMQ an agent's queue outlives the agent only for Agent:QueueExpiresAfter (x-expires).</summary>
public sealed class When_an_agent_is_gone_longer_than_its_queue_lives(RabbitMqBroker broker) : IClassFixture<RabbitMqBroker>
{
    private readonly string _vmmId = $"vmm-{Guid.NewGuid():N}"[..16];

    [SkippableFact]
    public async Task Should_leave_no_queue_behind()
    {
        var uri = broker.Require();
        var hosts = new[]
        {
            new AgentOptions
            {
                VmmId = _vmmId,
                Location = "site-a/pod-1/rack-1",
                VmCount = 0,
                HeartbeatInterval = TimeSpan.FromMilliseconds(500),
                QueueExpiresAfter = TimeSpan.FromSeconds(1),
            },
        };
        var cluster = await AgentCluster.StartAsync(hosts, builder =>
        {
            builder.Configuration["Bus:Transport"] = "RabbitMq";
            builder.Configuration["Bus:RabbitMqUri"] = uri.ToString();
        });
        await using var connection = await new ConnectionFactory { Uri = uri }.CreateConnectionAsync();
        var queue = Addresses.AgentQueue(_vmmId);
        try
        {
            // The agent declares it when its bus connects; asking renews its lease, as the agent's consumer does.
            Assert.True(await Eventually.TrueAsync(() => QueueExistsAsync(connection, queue)), $"{queue} was not declared");
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        // Asking renews the queue's lease, so ask less often than it expires.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await QueueExistsAsync(connection, queue))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{queue} is still there a minute after its agent stopped");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
    }

    // Asking for a queue that does not exist closes the channel, so ask on a throwaway one.
    private static async Task<bool> QueueExistsAsync(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }
}
