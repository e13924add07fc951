using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>The root announces the pending transfer to every agent: the tree, the manifest and the token only the announced parents present.</summary>
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
            var announcement = node.Transfers.Announce(command);
            logger.LogInformation(
                "Announced operation {OperationId} from {VmmId}: {VmCount} VMs to {VmmCount} VMMs in chunks of {ChunkSizeBytes} bytes",
                command.OperationId, node.VmmId, command.Vms.Count, command.Tree.Nodes.Count - 1, announcement.ChunkSizeBytes);
            await context.Publish(announcement);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, command.OperationId, OperationStep.Announce, e);
        }
    }
}
