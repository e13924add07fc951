using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

// The bookkeeping of an operation: what each report means for the tree, its manifest and each VMM. Pure: no bus, no
// clock, no log, so every rule here is tested with plain facts; the state machine decides when each one applies.
public sealed partial class BroadcastOperationState
{
    public void Start(BroadcastRequested request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Mode = request.Mode;
        RootVmmId = request.RootVmmId;
        FanOut = request.FanOut;
        Stripes = request.Stripes;
        ChunkSizeBytes = request.ChunkSizeBytes;
        PolicyName = request.PolicyName;
        Reason = request.Reason;
        RequestedAt = request.RequestedAt;
    }

    /// <summary>Takes the tree topology resolved: one <see cref="VmmProgress"/> per VMM, in tree order.</summary>
    public void AdoptTree(VmmTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        Tree = tree;
        TreeVersion = tree.Version;
        // A fan-out left to topology is the one it picked from now on: a repaired tree keeps the operation's shape.
        if (FanOut == 0)
        {
            FanOut = tree.FanOut;
        }

        // So are its stripes.
        if (Stripes == 0)
        {
            Stripes = tree.Stripes;
        }

        Hosts = tree.Nodes
            .Select(n => new VmmProgress { VmmId = n.VmmId, Location = n.Location, ParentVmmId = n.ParentVmmId, StripeParents = n.StripeParents?.ToList() })
            .ToList();
    }

    /// <summary>The root paused its VMs: they are the manifest, and the root holds them (nothing to receive).</summary>
    public void RecordPaused(IReadOnlyList<VmImage> vms, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(vms);
        PausedAt ??= at;

        // An image sealed already (its seal overtook this report) stays sealed.
        Vms = vms
            .Select(v => Vms.Find(known => known.VmId == v.VmId && known.IsSealed) ?? v)
            .ToList();
        foreach (var host in Hosts.Where(h => h.VmmId == RootVmmId))
        {
            host.Ready = true;
            host.Verified = true;
        }

        RefreshTotals();
    }

    /// <summary>Records the root's final sizes and digests: the manifest copies are checked against.</summary>
    public void Seal(IReadOnlyList<VmImage> vms)
    {
        ArgumentNullException.ThrowIfNull(vms);
        foreach (var image in vms.Where(v => v.IsSealed))
        {
            var index = Vms.FindIndex(v => v.VmId == image.VmId);
            if (index < 0)
            {
                Vms.Add(image);
            }
            else
            {
                Vms[index] = image with { Definition = image.Definition ?? Vms[index].Definition };
            }
        }

        RefreshTotals();
    }

    /// <summary>True once every image of the manifest has its final size and digest.</summary>
    public bool IsSealed() => Vms.All(v => v.IsSealed);

    /// <summary>A receiver prepared its spools; the root and VMMs the tree does not name are not receivers.</summary>
    public void MarkReady(string vmmId)
    {
        if (Receiver(vmmId) is { } host)
        {
            host.Ready = true;
        }
    }

    /// <summary>A receiver verified every copy. Ignored for a VMM whose own step failed.</summary>
    public void AcceptCopies(VmsReceived received)
    {
        ArgumentNullException.ThrowIfNull(received);
        if (Receiver(received.VmmId) is not { } host)
        {
            return;
        }

        if (host.Failed)
        {
            // A VMM failed because it could not be reached, or because its parent did, was a prediction: it may have
            // been fed everything first. Its verified copies prove otherwise. A VMM whose own step failed stays failed.
            if (!host.MayRejoin && !host.Parents().Any(parent => host.FailureReason == ParentFailed(parent)))
            {
                return;
            }

            host.Failed = false;
            host.FailureReason = null;
            host.MayRejoin = false;
        }

        host.Verified = true;
        host.BytesReceived = Math.Max(host.BytesReceived, host.TotalBytes);
        host.Copies = received.Vms.ToList();
    }

    /// <summary>A VMM (the root included) resumed its VMs or copies; a failed one stays failed.</summary>
    public void AcceptResumed(VmsResumed resumed)
    {
        ArgumentNullException.ThrowIfNull(resumed);
        var host = Hosts.Find(h => h.VmmId == resumed.VmmId);
        if (host is null || host.Failed)
        {
            return;
        }

        host.Resumed = true;
        host.Copies = resumed.Vms.ToList();
    }

    /// <summary>
    /// Marks the receiver failed, and with it every VMM below it that has no verified copies yet: those were to be fed
    /// through it. A VMM below that is verified already feeds its own subtree from its spool, so the walk stops there.
    /// Returns the VMMs dropped now (none for the root, a VMM the tree does not name, or one failed already). For a
    /// failure no repaired tree can help: copies that do not match, a resume that failed.
    /// </summary>
    public IReadOnlyList<VmmProgress> DropReceiver(string vmmId, OperationStep step, string reason) =>
        Receiver(vmmId) is { Failed: false } host ? DropWithUnfedBelow(host, $"{step.Name()} failed: {reason}") : [];

    /// <summary>
    /// Marks the receiver failed with <paramref name="reason"/>, and only it: the VMMs below it wait for a repaired tree
    /// (<see cref="Orphans"/>). Null for the root, a VMM the tree does not name, or one failed already.
    /// </summary>
    public VmmProgress? FailReceiver(string vmmId, string reason, bool mayRejoin)
    {
        if (Receiver(vmmId) is not { Failed: false } host)
        {
            return null;
        }

        host.Failed = true;
        host.FailureReason = reason;
        host.MayRejoin = mayRejoin;
        host.Resumed = false;
        host.Copies = [];
        return host;
    }

    /// <summary>The root was lost after every receiver held verified copies (duplicate mode): the others go on without it.</summary>
    public void FailRoot(string reason)
    {
        foreach (var root in Hosts.Where(h => h.VmmId == RootVmmId && !h.Failed))
        {
            root.Failed = true;
            root.FailureReason = reason;
            root.Resumed = false;
            root.Copies = [];
        }
    }

    /// <summary>
    /// Live receivers still waiting for data whose parent in the current tree (in any stripe) failed: only a repaired tree
    /// feeds them.
    /// </summary>
    public IReadOnlyList<VmmProgress> Orphans() =>
        LiveReceivers()
            .Where(h => !h.Verified && FailedParent(h) is not null)
            .ToList();

    /// <summary>True when the tree names <paramref name="parentVmmId"/> as a parent of the live receiver <paramref name="vmmId"/> (in any stripe).</summary>
    public bool IsLiveChildOf(string vmmId, string parentVmmId) =>
        Receiver(vmmId) is { Failed: false } host && host.IsFedBy(parentVmmId);

    /// <summary>Asks topology for a new version of the tree over every VMM of the operation that has not failed.</summary>
    public RepairTree RepairRequest(string cause)
    {
        PendingRepairs.Add(cause);
        return new RepairTree(CorrelationId, RootVmmId, FanOut, Hosts.Where(h => !h.Failed).Select(h => h.VmmId).ToArray(), TreeVersion ?? 0, Stripes);
    }

    /// <summary>
    /// Takes a repaired tree newer than the one held: the members topology could not place are failed (they may rejoin),
    /// every other VMM gets its new parent. Returns the history note (<c>tree v7 repaired after vmm-3 was lost: vmm-5,
    /// vmm-6 re-parented</c>), or null for a tree that is not newer (a repair answered out of order).
    /// </summary>
    public string? AdoptRepairedTree(TreeRepaired repaired)
    {
        ArgumentNullException.ThrowIfNull(repaired);
        var tree = repaired.Tree;
        if (tree.Version <= (TreeVersion ?? 0))
        {
            return null;
        }

        var leftOut = repaired.Left
            .Concat(LiveReceivers().Where(h => tree.Find(h.VmmId) is null).Select(h => h.VmmId))
            .Where(vmmId => FailReceiver(vmmId, $"left out of tree v{tree.Version}: topology could not place it (unknown or lost in the registry)", mayRejoin: true) is not null)
            .ToList();
        var reparented = new List<string>();
        foreach (var node in tree.Nodes)
        {
            if (Hosts.Find(h => h.VmmId == node.VmmId) is not { } host)
            {
                continue;
            }

            var stripeParents = node.StripeParents?.ToList();
            var sameParents = host.ParentVmmId == node.ParentVmmId
                && (host.StripeParents ?? []).SequenceEqual(stripeParents ?? [], StringComparer.Ordinal);
            if (!sameParents && !host.Failed && host.VmmId != RootVmmId)
            {
                reparented.Add(host.VmmId);
            }

            host.ParentVmmId = node.ParentVmmId;
            host.StripeParents = stripeParents;
            host.Location = node.Location;
        }

        Tree = tree;
        TreeVersion = tree.Version;
        var causes = PendingRepairs.Count > 0 ? string.Join(", ", PendingRepairs.Distinct()) : "a repair";
        PendingRepairs.Clear();
        return $"tree v{tree.Version} repaired after {causes}: "
            + (reparented.Count > 0 ? $"{string.Join(", ", reparented)} re-parented" : "no VMM re-parented")
            + (leftOut.Count > 0 ? $"; {string.Join(", ", leftOut)} left out (not live in the registry)" : string.Empty);
    }

    /// <summary>
    /// No repaired tree came: the receivers waiting under a failed parent, and the unverified ones below them, fail as the
    /// ones that could not be fed. Returns them.
    /// </summary>
    public IReadOnlyList<VmmProgress> DropOrphans() =>
        Orphans().SelectMany(orphan => orphan.Failed ? [] : DropWithUnfedBelow(orphan, ParentFailed(FailedParent(orphan)))).ToList();

    /// <summary>
    /// A receiver failed because it could not be reached came back (its agent restarted and resumed its receive): it is
    /// in the operation again, ready, and holds what it held. False when it was not failed that way.
    /// </summary>
    public bool Rejoin(string vmmId)
    {
        if (!MayRejoin(vmmId) || Receiver(vmmId) is not { } host)
        {
            return false;
        }

        host.Failed = false;
        host.FailureReason = null;
        host.MayRejoin = false;
        host.Ready = true;
        return true;
    }

    /// <summary>True when the VMM is a receiver that failed because it could not be reached: it may come back.</summary>
    public bool MayRejoin(string vmmId) => Receiver(vmmId) is { Failed: true, MayRejoin: true };

    /// <summary>True when the VMM is a receiver that failed (or one the tree does not name): nothing it holds counts.</summary>
    public bool HoldsNothingOf(string vmmId) => Receiver(vmmId) is not { Failed: false };

    /// <summary>
    /// With the manifest sealed, a verified receiver whose copies do not carry the root's digests is dropped: its
    /// copies are not the root's VMs, whatever its own checks said.
    /// </summary>
    public IReadOnlyList<VmmProgress> DropMismatchedCopies()
    {
        if (!IsSealed())
        {
            return [];
        }

        var dropped = new List<VmmProgress>();
        foreach (var host in LiveReceivers().Where(h => h.Verified).ToList())
        {
            var mismatch = Vms
                .Select(vm => (Vm: vm, Copy: host.Copies.Find(c => c.VmId == vm.VmId)))
                .FirstOrDefault(p => p.Copy is null || !string.Equals(p.Copy.Sha256, p.Vm.Sha256, StringComparison.OrdinalIgnoreCase));
            if (mismatch.Vm is not null)
            {
                var reason = mismatch.Copy is null
                    ? $"it reported no copy of {mismatch.Vm.VmId}"
                    : $"it holds {mismatch.Vm.VmId} with SHA-256 {mismatch.Copy.Sha256}, the root sealed it with {mismatch.Vm.Sha256}";
                dropped.AddRange(DropReceiver(host.VmmId, OperationStep.Verify, reason));
            }
        }

        return dropped;
    }

    /// <summary>The bytes of the manifest known so far: every sealed image's size (all of it once the manifest is sealed).</summary>
    public long SealedBytes() => Vms.Where(v => v.IsSealed).Sum(v => v.Bytes);

    /// <summary>
    /// True when <paramref name="fired"/> is the timer of the current step, as last scheduled: the one timer id is
    /// scheduled again on every step, so a fire of an earlier step (another purpose) or an earlier due time is stale.
    /// </summary>
    public bool IsStepTimer(TimerFired fired)
    {
        ArgumentNullException.ThrowIfNull(fired);
        return fired.TimerId == StepTimerId
            && fired.Purpose == StepTimerPurpose(CurrentState)
            && StepDueAt is { } due
            // The scheduler echoes the due time it was given; a store may have rounded it to the millisecond.
            && fired.ScheduledFor >= due - TimeSpan.FromMilliseconds(1);
    }

    /// <summary>The <see cref="ScheduleTimer.Purpose"/> of the timer of a step: <c>broadcast:{state}</c>.</summary>
    public static string StepTimerPurpose(string state) => "broadcast:" + state;

    /// <summary>
    /// Someone asked to cancel: the request is kept for the history and the final reason; the receivers' copies are no
    /// longer vouched for (their agents delete them).
    /// </summary>
    public void RecordCancel(CancelOperation cancel)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        Cancel = cancel;
        foreach (var host in Receivers())
        {
            host.Copies = [];
        }
    }

    /// <summary><c>cancel requested by ops@example: reason</c>, as the history says it.</summary>
    public static string CancelRequested(CancelOperation cancel)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        return $"cancel requested by {cancel.RequestedBy}" + (string.IsNullOrWhiteSpace(cancel.Reason) ? string.Empty : $": {cancel.Reason}");
    }

    /// <summary>The reason of a cancelled operation: <c>cancelled by ops@example at 2026-11-25T09:00:00Z: reason</c>.</summary>
    public string CancelledReason() =>
        Cancel is null
            ? "cancelled"
            : $"cancelled by {Cancel.RequestedBy} at {Cancel.RequestedAt:O}" + (string.IsNullOrWhiteSpace(Cancel.Reason) ? string.Empty : $": {Cancel.Reason}");

    /// <summary>What the root announces to the other VMMs: the tree as the operation holds it now, and the manifest.</summary>
    public AnnouncePendingTransfer Announcement() =>
        new(CorrelationId, RootVmmId, Tree!, Vms.ToArray(), ChunkSizeBytes, Mode);

    /// <summary>How the operation ended, as <see cref="BroadcastOperationFinished"/> tells the rest of the system.</summary>
    public BroadcastOperationFinished Finished(OperationFinalState final) =>
        new(
            CorrelationId,
            Mode,
            final,
            RootVmmId,
            Tree,
            Vms.ToArray(),
            // A failed VMM is vouched for by nothing: it carries no copies, whatever it may hold.
            Hosts.Select(h => new HostCopies(h.VmmId, h.Failed ? [] : h.Copies.ToArray())).ToArray(),
            FailureReason,
            RequestedAt,
            FinishedAt ?? RequestedAt);

    /// <summary>True when the VMM is a receiver of the tree (not the root, and named by the tree).</summary>
    public bool IsReceiver(string vmmId) => Receiver(vmmId) is not null;

    /// <summary>Every VMM of the tree but the root.</summary>
    public IEnumerable<VmmProgress> Receivers() => Hosts.Where(h => h.VmmId != RootVmmId);

    /// <summary>The receivers still in the operation.</summary>
    public IEnumerable<VmmProgress> LiveReceivers() => Receivers().Where(h => !h.Failed);

    /// <summary>The failed receivers with their reasons: <c>vmm-3 (receive failed: …); vmm-7 (parent vmm-3 failed)</c>.</summary>
    public string FailedVmms() =>
        string.Join("; ", Receivers().Where(h => h.Failed).Select(h => $"{h.VmmId} ({h.FailureReason})"));

    /// <summary>The reason of an operation that ends with some receivers failed and the others verified.</summary>
    public string PartialFailure()
    {
        var receivers = Receivers().ToList();
        var root = Hosts.Find(h => h.VmmId == RootVmmId && h.Failed) is { } failedRoot
            ? $"root {failedRoot.VmmId} failed ({failedRoot.FailureReason}); "
            : string.Empty;
        return $"{root}{receivers.Count(h => h.Failed)} of {receivers.Count} receiving VMMs failed: {FailedVmms()}";
    }

    public string EveryReceiverFailed() => $"every receiving VMM failed: {FailedVmms()}";

    /// <summary>", going on without vmm-2, vmm-5" when some receivers failed; empty otherwise.</summary>
    public string WithoutFailed() =>
        Receivers().Any(h => h.Failed)
            ? $", going on without {string.Join(", ", Receivers().Where(h => h.Failed).Select(h => h.VmmId))}"
            : string.Empty;

    private List<VmmProgress> DropWithUnfedBelow(VmmProgress host, string reason)
    {
        var dropped = new List<VmmProgress>();
        Drop(host, reason);
        return dropped;

        void Drop(VmmProgress vmm, string why)
        {
            vmm.Failed = true;
            vmm.FailureReason = why;
            vmm.Resumed = false;
            vmm.Copies = [];
            dropped.Add(vmm);
            foreach (var child in Hosts.Where(h => h.IsFedBy(vmm.VmmId) && !h.Failed && !h.Verified).ToList())
            {
                Drop(child, ParentFailed(vmm.VmmId));
            }
        }
    }

    /// <summary>Sizes and the root's copies follow the manifest; while it is unsealed the total is unknown (0).</summary>
    private void RefreshTotals()
    {
        var totalBytes = IsSealed() ? Vms.Sum(v => v.Bytes) : 0;
        foreach (var host in Hosts)
        {
            host.TotalBytes = Math.Max(host.TotalBytes, totalBytes);
            if (host.VmmId == RootVmmId)
            {
                host.BytesReceived = totalBytes;
                host.Copies = Vms.Select(v => new VmCopy(v.VmId, v.Sha256, VmState.Paused)).ToList();
            }
            else if (host.Verified)
            {
                host.BytesReceived = Math.Max(host.BytesReceived, totalBytes);
            }
        }
    }

    /// <summary>A non-root VMM of the tree, or null for the root or a VMM the tree does not name.</summary>
    private VmmProgress? Receiver(string vmmId) =>
        vmmId == RootVmmId ? null : Hosts.Find(h => h.VmmId == vmmId);

    private static string ParentFailed(string? parentVmmId) => $"parent {parentVmmId} failed";

    /// <summary>A parent of <paramref name="host"/> (in any stripe) that failed, or null.</summary>
    private string? FailedParent(VmmProgress host) =>
        host.Parents().FirstOrDefault(parent => Hosts.Find(p => p.VmmId == parent) is { Failed: true });
}
