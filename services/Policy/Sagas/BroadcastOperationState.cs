using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// What the broadcast operation saga knows about one operation. Plain settable members only: the state is
/// persisted as a document and inspected by operators, and final states are kept rather than deleted. What the
/// members mean as the operation moves on (a tree adopted, copies accepted, a receiver dropped) lives in the methods
/// of the other half of this class, <c>BroadcastOperationState.Hosts.cs</c>.
/// </summary>
public sealed partial class BroadcastOperationState : ITimedSagaState, ISagaVersion
{
    /// <summary>The operation id (<see cref="BroadcastRequested.OperationId"/>).</summary>
    public Guid CorrelationId { get; set; }

    public string CurrentState { get; set; } = string.Empty;

    public int Version { get; set; }

    public BroadcastMode Mode { get; set; }

    public string RootVmmId { get; set; } = string.Empty;

    public int FanOut { get; set; }

    /// <summary>Stripe trees asked for (0: topology's default); the tree says how many it has.</summary>
    public int Stripes { get; set; }

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

    /// <summary>
    /// The scheduler timer guarding the current step: one id for the whole operation, scheduled again (replaced in place)
    /// on every step; null once the operation ended. A <see cref="TimerFired"/> counts only for the current step and due time.
    /// </summary>
    public Guid? StepTimerId { get; set; }

    /// <summary>When <see cref="StepTimerId"/> is due for the current step (the transfer's moves as progress arrives).</summary>
    public DateTimeOffset? StepDueAt { get; set; }

    /// <summary>When the transfer started: its budget counts from here.</summary>
    public DateTimeOffset? TransferStartedAt { get; set; }

    // Stored documents and operators' queries call it StepTimerId; the explicit member keeps it out of them.
    Guid? ITimedSagaState.TimerId
    {
        get => StepTimerId;
        set => StepTimerId = value;
    }

    public string? FailureReason { get; set; }

    /// <summary>Who asked to cancel the operation, when and why; null unless someone did.</summary>
    public CancelOperation? Cancel { get; set; }

    /// <summary>What the tree repair asked for and not answered yet is about (<c>vmm-3 was lost</c>), for the history note.</summary>
    public List<string> PendingRepairs { get; set; } = [];

    public List<StateTransition> History { get; set; } = [];

    public DateTimeOffset? FinishedAt { get; set; }
}
