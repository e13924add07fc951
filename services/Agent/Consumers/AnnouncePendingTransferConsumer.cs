using System.Diagnostics;
using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>
/// The root announces the pending transfer to every agent of the tree: each its own slice of the tree, the manifest and the
/// token only the announced parents present (<see cref="AnnouncementDelivery"/>). The command carries the whole tree: the
/// root needs it to slice.
/// </summary>
public sealed class AnnouncePendingTransferConsumer(AgentDirectory agents, ILogger<AnnouncePendingTransferConsumer> logger) : IConsumer<AnnouncePendingTransfer>
{
    public async Task Consume(ConsumeContext<AnnouncePendingTransfer> context)
    {
        var command = context.Message;
        if (await agents.NodeForAsync(context, command.VmmId) is not { } node)
        {
            return;
        }

        try
        {
            var previous = node.Transfers.TryGetAnnounced(command.OperationId, out var before) ? before.Tree : null;
            var announcement = node.Transfers.Announce(command);
            var started = Stopwatch.GetTimestamp();
            var sent = await AnnouncementDelivery.SendAsync(context, announcement, previous, context.CancellationToken);
            logger.LogInformation(
                "Announced operation {OperationId} from {VmmId}: {VmCount} VMs to {VmmCount} VMMs in chunks of {ChunkSizeBytes} bytes ({Sent} sent in {SendMs:F0} ms)",
                command.OperationId, node.VmmId, command.Vms.Count, command.Tree.Nodes.Count - 1, announcement.ChunkSizeBytes, sent,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, command.OperationId, OperationStep.Announce, e);
        }
    }
}
