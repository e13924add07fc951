using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>
/// An operation ended: every agent that took part lets go of it. Unverified receives (partial copies) are deleted;
/// verified copies stay with the VMM, except after a cancel, when the copies never resumed are discarded too.
/// </summary>
public sealed class BroadcastOperationFinishedConsumer(AgentDirectory agents) : IConsumer<BroadcastOperationFinished>
{
    public async Task Consume(ConsumeContext<BroadcastOperationFinished> context)
    {
        var finished = context.Message;
        var node = await agents.NodeForAsync(context);
        await node.Transfers.EndAsync(
            finished.OperationId,
            discardCopies: finished.State == OperationFinalState.Cancelled,
            $"the operation ended {finished.State}",
            context.CancellationToken);
    }
}
