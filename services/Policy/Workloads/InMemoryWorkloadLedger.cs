using System.Collections.Concurrent;

namespace Treecast.Policy.Workloads;

/// <summary>The ledger of the embedded default: lost with the process, as the in-memory watches are.</summary>
public sealed class InMemoryWorkloadLedger : IWorkloadLedger
{
    private readonly ConcurrentDictionary<string, WorkloadCompletion> _completions = new(StringComparer.Ordinal);

    public Task RecordCompletionAsync(WorkloadCompletion completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completion);
        _completions.AddOrUpdate(
            completion.WorkloadId,
            completion,
            (_, recorded) => completion.CompletedAt < recorded.CompletedAt ? completion : recorded);
        return Task.CompletedTask;
    }

    public Task<WorkloadCompletion?> FindCompletionAsync(string workloadId, CancellationToken cancellationToken) =>
        Task.FromResult(_completions.TryGetValue(workloadId, out var completion) ? completion : null);
}
