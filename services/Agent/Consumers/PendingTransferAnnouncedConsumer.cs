using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>
/// The root sends each agent of the tree its own announcement (its slice of the tree), and an empty slice to one a newer
/// tree leaves out (<see cref="AnnouncementDelivery"/>). The tree's non-root VMMs prepare to receive (or follow a newer tree) and say
/// they are ready; one that already holds verified copies says so again, one whose receive failed repeats why.
/// </summary>
public sealed class PendingTransferAnnouncedConsumer(AgentDirectory agents) : IConsumer<PendingTransferAnnounced>
{
    public async Task Consume(ConsumeContext<PendingTransferAnnounced> context)
    {
        var announcement = context.Message;
        var node = await agents.NodeForAsync(context);
        try
        {
            if (node.Transfers.Expect(announcement) is not { } receiver)
            {
                return; // Not in the tree (or its root); an agent the tree no longer holds stopped its streams.
            }

            if (receiver.FailureReason is { } failed)
            {
                await context.Publish(new OperationStepFailed(announcement.OperationId, node.VmmId, OperationStep.Receive, failed));
                return;
            }

            await context.Publish(new ReadyToReceive(announcement.OperationId, node.VmmId));
            if (receiver.Received.IsCompletedSuccessfully)
            {
                await context.Publish(receiver.Received.Result);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, announcement.OperationId, OperationStep.Receive, e);
        }
    }
}
