using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>The root starts streaming the announced operation to its children.</summary>
public sealed class StartTransferConsumer(AgentDirectory agents, ILogger<StartTransferConsumer> logger) : IConsumer<StartTransfer>
{
    public async Task Consume(ConsumeContext<StartTransfer> context)
    {
        var command = context.Message;
        if (await agents.NodeForAsync(context, command.VmmId) is not { } node)
        {
            return;
        }

        if (!node.Transfers.StartTransfer(command.OperationId))
        {
            await context.Publish(new OperationStepFailed(
                command.OperationId, node.VmmId, OperationStep.Relay,
                $"Operation {command.OperationId} was never announced by {node.VmmId}; send AnnouncePendingTransfer to the root first."));
            return;
        }

        logger.LogInformation("Started transfer of operation {OperationId} from {VmmId}", command.OperationId, node.VmmId);
    }
}
