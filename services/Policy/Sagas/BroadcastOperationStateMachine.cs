using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The one place that knows the order of a broadcast operation: resolve the tree, pause the root's VMs,
/// announce the pending transfer, stream down the tree, and in duplicate mode resume the copies everywhere.
/// </summary>
public sealed class BroadcastOperationStateMachine : MassTransitStateMachine<BroadcastOperationState>
{
    public BroadcastOperationStateMachine(
        IOptions<BroadcastTimeouts> timeouts,
        TimeProvider clock,
        ILogger<BroadcastOperationStateMachine> logger)
    {
        Timeouts = timeouts.Value;
        Clock = clock;
        Logger = logger;

        InstanceState(x => x.CurrentState);

        Event(() => BroadcastRequested, x => x.CorrelateById(context => context.Message.OperationId));
        Event(() => TreeResolved, x => Existing(x, context => context.Message.OperationId));
        Event(() => TreeResolutionFailed, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmsPaused, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmImagesSealed, x => Existing(x, context => context.Message.OperationId));
        Event(() => ReadyToReceive, x => Existing(x, context => context.Message.OperationId));
        Event(() => TransferProgressed, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmsReceived, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmsResumed, x => Existing(x, context => context.Message.OperationId));
        Event(() => OperationStepFailed, x => Existing(x, context => context.Message.OperationId));

        // The deadline watch's timers arrive here too; they find no operation and are discarded.
        Event(() => TimerFired, x => Existing(x, context => context.Message.CorrelationId));

        // Messages are delivered at least once and agents report concurrently, so a duplicate or late event
        // (a second request, a report after the operation ended) is expected and must not fault.
        OnUnhandledEvent(context =>
        {
            logger.LogDebug(
                "Operation {OperationId} ignored {Event} in {State}",
                context.Saga.CorrelationId,
                context.Event.Name,
                context.CurrentState.Name);
            return context.Ignore();
        });

        Initially(
            When(BroadcastRequested)
                .Then(context => Start(context.Saga, context.Message))
                .Send(Addresses.Topology, context => new ResolveTree(
                    context.Saga.CorrelationId,
                    context.Saga.RootVmmId,
                    context.Saga.FanOut))
                .EnterStep(ResolvingTree, Timeouts.ResolveTree, clock, logger, context =>
                    $"{context.Saga.Mode} of {context.Saga.RootVmmId} requested by policy {context.Saga.PolicyName}: {context.Saga.Reason}"));

        During(ResolvingTree,
            When(TreeResolved)
                .Then(context => StoreTree(context.Saga, context.Message.Tree))
                .Send(RootAgent, context => new PauseVms(context.Saga.CorrelationId, context.Saga.RootVmmId))
                .EnterStep(Pausing, Timeouts.Pause, clock, logger, context =>
                    $"tree v{context.Saga.TreeVersion} over {context.Saga.Hosts.Count} VMMs"),
            When(TreeResolutionFailed)
                .Fail(Failed, clock, logger, context =>
                    $"ResolveTree failed for {context.Message.RootVmmId}: {context.Message.Reason}"));

        During(Pausing,
            When(VmsPaused, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => StorePausedVms(context.Saga, context.Message.Vms, clock.GetUtcNow()))
                .IfElse(
                    context => context.Saga.Hosts.Count <= 1,
                    rootOnly => rootOnly.FinishRootOnlyWhenSealed(this),
                    tree => tree
                        .Send(RootAgent, context => new AnnouncePendingTransfer(
                            context.Saga.CorrelationId,
                            context.Saga.RootVmmId,
                            context.Saga.Tree!,
                            context.Saga.Vms.ToArray(),
                            context.Saga.ChunkSizeBytes,
                            context.Saga.Mode))
                        .EnterStep(Announcing, Timeouts.Announce, clock, logger, context => IsSealed(context.Saga)
                            ? $"{context.Saga.Vms.Count} VMs ({context.Saga.Vms.Sum(v => v.Bytes)} bytes) paused on {context.Saga.RootVmmId}"
                            : $"{context.Saga.Vms.Count} VMs paused on {context.Saga.RootVmmId}, {context.Saga.Vms.Count(v => !v.IsSealed)} images still being saved")),
            // The seal may overtake the pause report on the bus: it is kept, and the pause report does not undo it.
            When(VmImagesSealed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => StoreSealedVms(context.Saga, context.Message.Vms))
                .If(context => context.Saga.Hosts.Count <= 1, rootOnly => rootOnly.FinishRootOnlyWhenSealed(this)));

        During(Announcing,
            When(VmImagesSealed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => StoreSealedVms(context.Saga, context.Message.Vms)),
            When(ReadyToReceive)
                .Then(context => Receiver(context.Saga, context.Message.VmmId)?.Ready = true)
                .StartTransferWhenReady(this),
            When(OperationStepFailed, context => IsReceiverFailure(context.Saga, context.Message))
                .DropReceiver(this)
                .FailWhenNoReceiverLeft(this, some => some.StartTransferWhenReady(this)));

        During(Transferring,
            // Receivers may have verified their copies (against the root's end markers) before the seal arrives, or after.
            When(VmImagesSealed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => StoreSealedVms(context.Saga, context.Message.Vms))
                .ContinueAfterReceive(this),
            When(TransferProgressed)
                .Then(context => RecordProgress(context.Saga, context.Message)),
            When(VmsReceived)
                .Then(context => StoreReceivedCopies(context.Saga, context.Message))
                .ContinueAfterReceive(this),
            When(OperationStepFailed, context => IsReceiverFailure(context.Saga, context.Message))
                .DropReceiver(this)
                .ContinueAfterReceive(this));

        During(Duplicating,
            When(VmsResumed)
                .Then(context => StoreResumedCopies(context.Saga, context.Message))
                .FinishWhenResumed(this),
            When(OperationStepFailed, context => IsReceiverFailure(context.Saga, context.Message))
                .DropReceiver(this)
                .FailWhenNoReceiverLeft(this, some => some.FinishWhenResumed(this)));

        // A failure of the root (pause, announce, its own relay or resume) or of a VMM outside the tree ends the
        // operation: without the root's images there is nothing left to copy.
        During(new[] { ResolvingTree, Pausing },
            When(OperationStepFailed)
                .Fail(Failed, clock, logger, context =>
                    $"{context.Message.Step.Name()} failed on {context.Message.VmmId}: {context.Message.Reason}"));
        During(new[] { Announcing, Transferring, Duplicating },
            When(OperationStepFailed, context => !IsReceiverFailure(context.Saga, context.Message))
                .Fail(Failed, clock, logger, context =>
                    $"{context.Message.Step.Name()} failed on {context.Message.VmmId}: {context.Message.Reason}"));

        During(new[] { ResolvingTree, Pausing, Announcing, Transferring, Duplicating },
            When(TimerFired, SagaActivities.IsPendingTimer)
                .ForgetFiredTimer()
                .Fail(Failed, clock, logger, context =>
                    $"step {context.Saga.CurrentState} timed out after {StepTimeout(context.Saga.CurrentState)}"));
    }

    internal BroadcastTimeouts Timeouts { get; }

    internal TimeProvider Clock { get; }

    internal ILogger Logger { get; }

    public State ResolvingTree { get; } = null!;
    public State Pausing { get; } = null!;
    public State Announcing { get; } = null!;
    public State Transferring { get; } = null!;
    public State Duplicating { get; } = null!;
    public State Completed { get; } = null!;
    public State Duplicated { get; } = null!;

    /// <summary>Final: every VMM that did not fail holds verified copies (running, in duplicate mode); some receivers failed.</summary>
    public State CompletedWithFailures { get; } = null!;
    public State Failed { get; } = null!;

    public Event<BroadcastRequested> BroadcastRequested { get; } = null!;
    public Event<TreeResolved> TreeResolved { get; } = null!;
    public Event<TreeResolutionFailed> TreeResolutionFailed { get; } = null!;
    public Event<VmsPaused> VmsPaused { get; } = null!;
    public Event<VmImagesSealed> VmImagesSealed { get; } = null!;
    public Event<ReadyToReceive> ReadyToReceive { get; } = null!;
    public Event<TransferProgressed> TransferProgressed { get; } = null!;
    public Event<VmsReceived> VmsReceived { get; } = null!;
    public Event<VmsResumed> VmsResumed { get; } = null!;
    public Event<OperationStepFailed> OperationStepFailed { get; } = null!;
    public Event<TimerFired> TimerFired { get; } = null!;

    private static void Existing<T>(IEventCorrelationConfigurator<BroadcastOperationState, T> x, Func<ConsumeContext<T>, Guid> operationId)
        where T : class
    {
        x.CorrelateById(operationId);
        x.OnMissingInstance(m => m.Discard());
    }

    internal static Uri RootAgent<T>(BehaviorContext<BroadcastOperationState, T> context)
        where T : class =>
        Addresses.Agent(context.Saga.RootVmmId);

    private TimeSpan StepTimeout(string state) => state switch
    {
        nameof(ResolvingTree) => Timeouts.ResolveTree,
        nameof(Pausing) => Timeouts.Pause,
        nameof(Announcing) => Timeouts.Announce,
        nameof(Transferring) => Timeouts.Transfer,
        _ => Timeouts.Resume,
    };

    private static void Start(BroadcastOperationState state, BroadcastRequested request)
    {
        state.Mode = request.Mode;
        state.RootVmmId = request.RootVmmId;
        state.FanOut = request.FanOut;
        state.ChunkSizeBytes = request.ChunkSizeBytes;
        state.PolicyName = request.PolicyName;
        state.Reason = request.Reason;
        state.RequestedAt = request.RequestedAt;
    }

    private static void StoreTree(BroadcastOperationState state, VmmTree tree)
    {
        state.Tree = tree;
        state.TreeVersion = tree.Version;
        state.Hosts = tree.Nodes
            .Select(n => new VmmProgress { VmmId = n.VmmId, Location = n.Location, ParentVmmId = n.ParentVmmId })
            .ToList();
    }

    private static void StorePausedVms(BroadcastOperationState state, IReadOnlyList<VmImage> vms, DateTimeOffset now)
    {
        state.PausedAt ??= now;
        // An image sealed already (its seal overtook this report) stays sealed.
        state.Vms = vms
            .Select(v => state.Vms.Find(known => known.VmId == v.VmId && known.IsSealed) ?? v)
            .ToList();
        foreach (var host in state.Hosts.Where(h => h.VmmId == state.RootVmmId))
        {
            // The root holds the originals: nothing to receive, and its copies are the paused VMs.
            host.Ready = true;
            host.Verified = true;
        }

        RefreshTotals(state);
    }

    /// <summary>Records the root's final sizes and digests: the manifest copies are checked against.</summary>
    private static void StoreSealedVms(BroadcastOperationState state, IReadOnlyList<VmImage> vms)
    {
        foreach (var image in vms.Where(v => v.IsSealed))
        {
            var index = state.Vms.FindIndex(v => v.VmId == image.VmId);
            if (index < 0)
            {
                state.Vms.Add(image);
            }
            else
            {
                state.Vms[index] = image with { Definition = image.Definition ?? state.Vms[index].Definition };
            }
        }

        RefreshTotals(state);
    }

    /// <summary>Sizes and the root's copies follow the manifest; while it is unsealed the total is unknown (0).</summary>
    private static void RefreshTotals(BroadcastOperationState state)
    {
        var totalBytes = IsSealed(state) ? state.Vms.Sum(v => v.Bytes) : 0;
        foreach (var host in state.Hosts)
        {
            host.TotalBytes = Math.Max(host.TotalBytes, totalBytes);
            if (host.VmmId == state.RootVmmId)
            {
                host.BytesReceived = totalBytes;
                host.Copies = state.Vms.Select(v => new VmCopy(v.VmId, v.Sha256, VmState.Paused)).ToList();
            }
            else if (host.Verified)
            {
                host.BytesReceived = Math.Max(host.BytesReceived, totalBytes);
            }
        }
    }

    /// <summary>True once every image of the manifest has its final size and digest.</summary>
    internal static bool IsSealed(BroadcastOperationState state) => state.Vms.All(v => v.IsSealed);

    /// <summary>
    /// With the manifest sealed, a verified receiver whose copies do not carry the root's digests is dropped: its
    /// copies are not the root's VMs, whatever its own checks said.
    /// </summary>
    internal static IReadOnlyList<VmmProgress> DropMismatchedCopies(BroadcastOperationState state)
    {
        if (!IsSealed(state))
        {
            return [];
        }

        var dropped = new List<VmmProgress>();
        foreach (var host in LiveReceivers(state).Where(h => h.Verified).ToList())
        {
            var mismatch = state.Vms
                .Select(vm => (Vm: vm, Copy: host.Copies.Find(c => c.VmId == vm.VmId)))
                .FirstOrDefault(p => p.Copy is null || !string.Equals(p.Copy.Sha256, p.Vm.Sha256, StringComparison.OrdinalIgnoreCase));
            if (mismatch.Vm is not null)
            {
                var reason = mismatch.Copy is null
                    ? $"it reported no copy of {mismatch.Vm.VmId}"
                    : $"it holds {mismatch.Vm.VmId} with SHA-256 {mismatch.Copy.Sha256}, the root sealed it with {mismatch.Vm.Sha256}";
                dropped.AddRange(MarkFailed(state, new OperationStepFailed(state.CorrelationId, host.VmmId, OperationStep.Verify, reason)));
            }
        }

        return dropped;
    }

    private static void RecordProgress(BroadcastOperationState state, TransferProgressed progress)
    {
        var host = Receiver(state, progress.VmmId);
        if (host is null)
        {
            return;
        }

        // Progress reports may be reordered on the bus; the furthest offset wins.
        host.BytesReceived = Math.Max(host.BytesReceived, progress.BytesReceived);
        if (progress.TotalBytes > 0)
        {
            host.TotalBytes = progress.TotalBytes;
        }
    }

    private static void StoreReceivedCopies(BroadcastOperationState state, VmsReceived received)
    {
        var host = Receiver(state, received.VmmId);
        if (host is null)
        {
            return;
        }

        if (host.Failed)
        {
            // A VMM failed only because its parent did was a prediction: the parent may have finished feeding it
            // first. Its verified copies prove otherwise. A VMM whose own step failed stays failed.
            if (host.FailureReason != ParentFailed(host.ParentVmmId))
            {
                return;
            }

            host.Failed = false;
            host.FailureReason = null;
        }

        host.Verified = true;
        host.BytesReceived = Math.Max(host.BytesReceived, host.TotalBytes);
        host.Copies = received.Vms.ToList();
    }

    private static void StoreResumedCopies(BroadcastOperationState state, VmsResumed resumed)
    {
        var host = state.Hosts.Find(h => h.VmmId == resumed.VmmId);
        if (host is null || host.Failed)
        {
            return;
        }

        host.Resumed = true;
        host.Copies = resumed.Vms.ToList();
    }

    /// <summary>A non-root VMM of the tree, or null for the root or a VMM the tree does not name.</summary>
    private static VmmProgress? Receiver(BroadcastOperationState state, string vmmId) =>
        vmmId == state.RootVmmId ? null : state.Hosts.Find(h => h.VmmId == vmmId);

    internal static IEnumerable<VmmProgress> Receivers(BroadcastOperationState state) =>
        state.Hosts.Where(h => h.VmmId != state.RootVmmId);

    /// <summary>The receivers still in the operation.</summary>
    internal static IEnumerable<VmmProgress> LiveReceivers(BroadcastOperationState state) =>
        Receivers(state).Where(h => !h.Failed);

    /// <summary>
    /// A failure one receiving VMM can absorb alone: a step of a non-root VMM of the tree (its receive, adoption,
    /// the relay that feeds it, its resume). Failures of the root, or of a VMM the tree does not name, are the operation's.
    /// </summary>
    private static bool IsReceiverFailure(BroadcastOperationState state, OperationStepFailed failure) =>
        Receiver(state, failure.VmmId) is not null;

    /// <summary>
    /// Marks the VMM failed, and with it every VMM below it that has no verified copies yet: those were to be fed
    /// through it. A VMM below that is verified already feeds its own subtree from its spool, so the walk stops there.
    /// </summary>
    internal static IReadOnlyList<VmmProgress> MarkFailed(BroadcastOperationState state, OperationStepFailed failure)
    {
        var host = Receiver(state, failure.VmmId);
        if (host is null || host.Failed)
        {
            return [];
        }

        var dropped = new List<VmmProgress>();
        Drop(host, $"{failure.Step.Name()} failed: {failure.Reason}");
        return dropped;

        void Drop(VmmProgress vmm, string reason)
        {
            vmm.Failed = true;
            vmm.FailureReason = reason;
            vmm.Resumed = false;
            vmm.Copies = [];
            dropped.Add(vmm);
            foreach (var child in state.Hosts.Where(h => h.ParentVmmId == vmm.VmmId && !h.Failed && !h.Verified).ToList())
            {
                Drop(child, ParentFailed(vmm.VmmId));
            }
        }
    }

    private static string ParentFailed(string? parentVmmId) => $"parent {parentVmmId} failed";

    internal static string FailedVmms(BroadcastOperationState state) =>
        string.Join("; ", Receivers(state).Where(h => h.Failed).Select(h => $"{h.VmmId} ({h.FailureReason})"));

    internal static string EveryReceiverFailed(BroadcastOperationState state) =>
        $"every receiving VMM failed: {FailedVmms(state)}";

    internal static string WithoutFailed(BroadcastOperationState state) =>
        Receivers(state).Any(h => h.Failed) ? $", going on without {string.Join(", ", Receivers(state).Where(h => h.Failed).Select(h => h.VmmId))}" : string.Empty;
}
