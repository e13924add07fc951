namespace Treecast.Policy.Workloads;

/// <summary>
/// Every workload completion the policy service was told of, whatever the order messages arrived in: a deadline
/// watch created after the completion was consumed, or whose timer fires before the completion reached it, reads
/// the decision here.
/// </summary>
public interface IWorkloadLedger
{
    /// <summary>
    /// Records a completion. Idempotent: a redelivered completion changes nothing, and of two completions of one
    /// workload the earlier is kept (with the VMM that reported it).
    /// </summary>
    Task RecordCompletionAsync(WorkloadCompletion completion, CancellationToken cancellationToken);

    /// <summary>The earliest completion recorded for the workload, or null when none was.</summary>
    Task<WorkloadCompletion?> FindCompletionAsync(string workloadId, CancellationToken cancellationToken);
}
