using MassTransit;

namespace Treecast.Policy.Sagas;

/// <summary>
/// What the deadline watch saga knows about one workload's deadline. Plain settable members only, like
/// <see cref="BroadcastOperationState"/>; final states are kept for operators.
/// </summary>
public sealed class DeadlineWatchState : ITimedSagaState, ISagaVersion
{
    /// <summary>The watch id (<see cref="Treecast.Contracts.DeadlineWatchRequested.WatchId"/>).</summary>
    public Guid CorrelationId { get; set; }

    public string CurrentState { get; set; } = string.Empty;

    public int Version { get; set; }

    public string WorkloadId { get; set; } = string.Empty;

    public string RootVmmId { get; set; } = string.Empty;

    public TimeSpan Deadline { get; set; }

    public int FanOut { get; set; }

    /// <summary>Stripe trees of the duplication; 0 for topology's default.</summary>
    public int Stripes { get; set; }

    public int ChunkSizeBytes { get; set; }

    public string PolicyName { get; set; } = string.Empty;

    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>The deadline timer while it is pending.</summary>
    public Guid? TimerId { get; set; }

    /// <summary>When the workload completed, the earliest the watch learned of (a report, the ledger, the root's agent).</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>The duplicate-mode broadcast operation started when the deadline passed.</summary>
    public Guid? OperationId { get; set; }

    public string? FailureReason { get; set; }

    public List<StateTransition> History { get; set; } = [];

    public DateTimeOffset? FinishedAt { get; set; }
}
