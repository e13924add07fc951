using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>How a workload stands on one VMM: never ran here, running, or completed (and when).</summary>
public sealed record WorkloadReport(WorkloadStatus Status, DateTimeOffset? CompletedAt)
{
    public static WorkloadReport Unknown { get; } = new(WorkloadStatus.Unknown, null);
}
