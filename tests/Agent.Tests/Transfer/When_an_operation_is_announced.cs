using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// Announcing an operation opens every parent's connections to its children (mutual TLS handshake included) before the
/// transfer starts, so the streams do not set up hop by hop once the first chunk is ready.
/// </summary>
public sealed class When_an_operation_is_announced
{
    [Fact]
    public async Task Should_connect_every_parent_to_its_children_before_the_transfer_starts()
    {
        var logs = new RecordedLogs();
        await using var cluster = new TransferCluster(logs: logs);
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 256 * 1024)]);
        await cluster.AddAsync("relay", "root");
        await cluster.AddAsync("leaf", "relay");

        var operationId = Guid.NewGuid();
        cluster.Announce(operationId);

        foreach (var child in new[] { "relay", "leaf" })
        {
            await Poll.UntilAsync(
                () => logs.With($"Connected to {child} at ").Any(l => l.Contains(operationId.ToString(), StringComparison.Ordinal)),
                $"{child}'s parent connected to it ahead of operation {operationId}",
                TimeSpan.FromMinutes(1));
        }

        Assert.Equal(0, root.Engine.BytesSentTo(operationId, "relay"));
        Assert.True(root.Engine.StartTransfer(operationId));
        await cluster.WaitForReceivedAsync(operationId, "leaf", TimeSpan.FromMinutes(2));
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }
}
