using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// What the broadcast operation saga knows about one operation. Plain settable members only: the state is
/// persisted as a document and inspected by operators, and final states are kept rather than deleted.
/// </summary>
public sealed class BroadcastOperationState : ITimedSagaState, ISagaVersion
{
    /// <summary>The operation id (<see cref="BroadcastRequested.OperationId"/>).</summary>
    public Guid CorrelationId { get; set; }

    public string CurrentState { get; set; } = string.Empty;

    public int Version { get; set; }

    public BroadcastMode Mode { get; set; }

    public string RootVmmId { get; set; } = string.Empty;

    public int FanOut { get; set; }

    public int ChunkSizeBytes { get; set; }

    public string PolicyName { get; set; } = string.Empty;

    public string Reason { get; set; } = string.Empty;

    public DateTimeOffset RequestedAt { get; set; }

    public VmmTree? Tree { get; set; }

    public long? TreeVersion { get; set; }

    /// <summary>
    /// The root's VM images as paused and announced; an image announced while its stream was still being written is
    /// unsealed (no size, no digest) until the root reports it sealed (<see cref="VmImagesSealed"/>).
    /// </summary>
    public List<VmImage> Vms { get; set; } = [];

    /// <summary>When the root reported its VMs paused (the manifest may still be unsealed then).</summary>
    public DateTimeOffset? PausedAt { get; set; }

    /// <summary>One entry per VMM of the tree, the root included, in tree order.</summary>
    public List<VmmProgress> Hosts { get; set; } = [];

    /// <summary>The scheduler timer guarding the current step; a <see cref="TimerFired"/> with another id is stale.</summary>
    public Guid? StepTimerId { get; set; }

    // Stored documents and operators' queries call it StepTimerId; the explicit member keeps it out of them.
    Guid? ITimedSagaState.TimerId
    {
        get => StepTimerId;
        set => StepTimerId = value;
    }

    public string? FailureReason { get; set; }

    public List<StateTransition> History { get; set; } = [];

    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>How far one VMM of the tree has got in the operation.</summary>
public sealed class VmmProgress
{
    public string VmmId { get; set; } = string.Empty;

    public string Location { get; set; } = string.Empty;

    public string? ParentVmmId { get; set; }

    public bool Ready { get; set; }

    public long BytesReceived { get; set; }

    public long TotalBytes { get; set; }

    public bool Verified { get; set; }

    /// <summary>The VMs this VMM holds: verified copies, or (for the root) its own paused or resumed VMs; empty once it failed.</summary>
    public List<VmCopy> Copies { get; set; } = [];

    public bool Resumed { get; set; }

    /// <summary>
    /// True when this (non-root) VMM dropped out of the operation: its receive, adoption, relay or resume failed, or its
    /// parent failed before it was fed. The operation goes on without it.
    /// </summary>
    public bool Failed { get; set; }

    /// <summary>Why it failed: <c>{step} failed: {agent's reason}</c>, or <c>parent {vmm} failed</c>.</summary>
    public string? FailureReason { get; set; }
}
