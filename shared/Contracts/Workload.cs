namespace Treecast.Contracts;

/// <summary>Start the workload inside the VMs of one VMM; it advances only while those VMs run.</summary>
public sealed record StartWorkload(string WorkloadId, string VmmId, TimeSpan Work);

public sealed record WorkloadStarted(string WorkloadId, string VmmId, DateTimeOffset StartedAt);

public sealed record WorkloadCompleted(string WorkloadId, string VmmId, DateTimeOffset CompletedAt);

/// <summary>Starts a deadline watch: duplicate the VMM's VMs if the workload has not completed in time.</summary>
public sealed record DeadlineWatchRequested(
    Guid WatchId,
    string WorkloadId,
    string RootVmmId,
    TimeSpan Deadline,
    int FanOut,
    int ChunkSizeBytes,
    string PolicyName,
    DateTimeOffset RequestedAt,
    int Stripes = 0);

/// <summary>
/// Ask the root's agent how a workload stands, before a deadline watch duplicates it: the agent knows whether the
/// workload completed, whatever the bus delivered or lost.
/// </summary>
public sealed record QueryWorkload(Guid WatchId, string WorkloadId, string VmmId);

/// <summary>The agent's answer to <see cref="QueryWorkload"/>; <see cref="CompletedAt"/> is set when it completed.</summary>
public sealed record WorkloadStatusReported(Guid WatchId, string WorkloadId, string VmmId, WorkloadStatus Status, DateTimeOffset? CompletedAt);
