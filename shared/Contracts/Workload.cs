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
    DateTimeOffset RequestedAt);
