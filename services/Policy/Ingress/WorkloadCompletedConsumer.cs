using MassTransit;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Workloads;

namespace Treecast.Policy.Ingress;

/// <summary>
/// Records a completed workload in the ledger, then evaluates policies for it, whether an agent or an external
/// system reported it.
/// </summary>
public sealed class WorkloadCompletedConsumer(
    IWorkloadLedger ledger,
    ObservedEventDispatcher dispatcher,
    ILogger<WorkloadCompletedConsumer> logger) : IConsumer<WorkloadCompleted>
{
    public async Task Consume(ConsumeContext<WorkloadCompleted> context)
    {
        var completed = context.Message;
        if (string.IsNullOrWhiteSpace(completed.WorkloadId))
        {
            throw new InvalidMessageException(
                $"a WorkloadCompleted from VMM '{completed.VmmId}' names no workload (the sender must set WorkloadId to the id of the workload that completed)");
        }

        // First: a deadline watch created after this message, or whose timer fires before the watch sees it,
        // decides from the ledger. Recording is idempotent, so a retry of this consumer records nothing twice.
        await ledger.RecordCompletionAsync(
            new WorkloadCompletion(completed.WorkloadId, completed.VmmId, completed.CompletedAt),
            context.CancellationToken);
        logger.LogInformation(
            "Workload {WorkloadId} completed on {VmmId} at {CompletedAt}: recorded in the workload ledger",
            completed.WorkloadId,
            completed.VmmId,
            completed.CompletedAt);

        await dispatcher.DispatchAsync(
            ObservedEvent.FromWorkloadCompleted(completed, context.MessageId?.ToString()),
            context,
            context.CancellationToken);
    }
}
