using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Operations;

/// <summary>
/// Topology declared a VMM lost (no heartbeat): every running operation whose tree holds it hears of it as
/// <see cref="OperationVmmLost"/>, so each repairs its tree around the VMM inside the operation.
/// </summary>
public sealed class VmmLostConsumer(IOperationReadModel operations, ILogger<VmmLostConsumer> logger) : IConsumer<VmmLost>
{
    public async Task Consume(ConsumeContext<VmmLost> context)
    {
        var lost = context.Message;
        var running = await operations.RunningWithHostAsync(lost.VmmId, context.CancellationToken);
        var reason = $"no heartbeat since {lost.LastSeenAt:O}";
        foreach (var operationId in running)
        {
            await context.Publish(new OperationVmmLost(operationId, lost.VmmId, reason), context.CancellationToken);
        }

        logger.LogInformation(
            "VMM {VmmId} lost ({Reason}): told {OperationCount} running operation(s) holding it",
            lost.VmmId,
            reason,
            running.Count);
    }
}
