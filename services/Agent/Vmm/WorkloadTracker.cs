using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>
/// The workloads a VMM ran and when each completed, shared by both drivers. A completion is raised once per carrier: a
/// workload started again, or carried in by an adopted copy, is news again when it completes here; the time kept is its
/// first completion on this VMM since it was last started. Not thread-safe: <see cref="VmTable{TVm}"/> uses it under its lock.
/// </summary>
internal sealed class WorkloadTracker
{
    private readonly Dictionary<string, DateTimeOffset?> _completedAt = new(StringComparer.Ordinal);
    private readonly HashSet<string> _raised = new(StringComparer.Ordinal);

    /// <summary>Refuses a workload without an id or with negative work, as both drivers' <see cref="IVmm.StartWorkloadAsync"/> do.</summary>
    public static void ThrowIfInvalid(string workloadId, TimeSpan work)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workloadId);
        if (work < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(work), work, "A workload's work cannot be negative.");
        }
    }

    /// <summary>The workload was started (again) in this VMM's VMs.</summary>
    public void Started(string workloadId)
    {
        _completedAt[workloadId] = null;
        _raised.Remove(workloadId);
    }

    /// <summary>An adopted copy carries the workload: its completion here is news again.</summary>
    public void Carried(string workloadId)
    {
        _completedAt.TryAdd(workloadId, null);
        _raised.Remove(workloadId);
    }

    public bool IsRaised(string workloadId) => _raised.Contains(workloadId);

    /// <summary>Every carrier reached its target: true when this completion is to be raised (the first since it was news).</summary>
    public bool TryComplete(string workloadId, DateTimeOffset at)
    {
        if (!_raised.Add(workloadId))
        {
            return false;
        }

        if (_completedAt.GetValueOrDefault(workloadId) is null)
        {
            _completedAt[workloadId] = at;
        }

        return true;
    }

    public WorkloadReport Report(string workloadId) =>
        !_completedAt.TryGetValue(workloadId, out var completedAt) ? WorkloadReport.Unknown
        : completedAt is { } at ? new WorkloadReport(WorkloadStatus.Completed, at)
        : new WorkloadReport(WorkloadStatus.Running, null);
}
