namespace Treecast.Policy.Workloads;

/// <summary>A workload's completion as the ledger keeps it: the earliest one reported.</summary>
public sealed record WorkloadCompletion(string WorkloadId, string VmmId, DateTimeOffset CompletedAt);
