using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>
/// Stops a cancelled operation on this VMM: its forwarders and its receive end, its spools and receive state go, and the
/// copies it adopted and never resumed are discarded.
/// </summary>
public sealed class CancelTransferConsumer(AgentDirectory agents, ILogger<CancelTransferConsumer> logger) : IConsumer<CancelTransfer>
{
    public async Task Consume(ConsumeContext<CancelTransfer> context)
    {
        var command = context.Message;
        if (await agents.NodeForAsync(context, command.VmmId) is not { } node)
        {
            return;
        }

        try
        {
            var discarded = await node.Transfers.EndAsync(command.OperationId, discardCopies: true, "the operation was cancelled", context.CancellationToken);
            logger.LogInformation(
                "Cancelled operation {OperationId} on {VmmId}: {DiscardedCount} copies discarded",
                command.OperationId, node.VmmId, discarded.Count);
            await context.Publish(new TransferCancelled(command.OperationId, node.VmmId, discarded));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, command.OperationId, OperationStep.Cancel, e);
        }
    }
}
