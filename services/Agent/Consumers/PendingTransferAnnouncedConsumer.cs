using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>Every agent hears every announcement; the tree's non-root VMMs prepare to receive and say they are ready.</summary>
public sealed class PendingTransferAnnouncedConsumer(AgentDirectory agents) : IConsumer<PendingTransferAnnounced>
{
    public async Task Consume(ConsumeContext<PendingTransferAnnounced> context)
    {
        var announcement = context.Message;
        var node = await agents.NodeForAsync(context);
        if (announcement.RootVmmId == node.VmmId || announcement.Tree.Find(node.VmmId) is null)
        {
            return;
        }

        try
        {
            node.Transfers.Expect(announcement);
            await context.Publish(new ReadyToReceive(announcement.OperationId, node.VmmId));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, announcement.OperationId, OperationStep.Receive, e);
        }
    }
}
