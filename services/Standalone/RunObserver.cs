using System.Collections.Concurrent;
using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>
/// What the embedded run has seen on the bus: registrations, the operation it started, transfer
/// progress and the final outcome. Fed by <see cref="RunObserverConsumer"/>; read by <see cref="StandaloneRun"/>.
/// </summary>
public sealed class RunObserver(int expectedHosts)
{
    private readonly ConcurrentDictionary<string, byte> _registered = new();
    private readonly ConcurrentDictionary<string, (long Bytes, long Total)> _progress = new();
    private readonly ConcurrentDictionary<string, byte> _verified = new();
    private readonly TaskCompletionSource _allRegistered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<BroadcastRequested> _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<BroadcastOperationFinished> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<WorkloadCompleted> _workloadCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lines worth showing a person, in order (progress is drawn separately).</summary>
    public event Action<string>? Said;

    public Task AllRegistered => _allRegistered.Task;

    public Task<BroadcastRequested> Requested => _requested.Task;

    public Task<BroadcastOperationFinished> Finished => _finished.Task;

    public Task<WorkloadCompleted> WorkloadCompletedTask => _workloadCompleted.Task;

    public VmmTree? Tree { get; private set; }

    public DateTimeOffset? TransferStartedAt { get; private set; }

    public int VerifiedCount => _verified.Count;

    /// <summary>
    /// Bytes received on every VMM so far, and the bytes they will hold in all; the total is 0 while a VMM's is unknown
    /// (a QEMU image announced before its stream ended), so the received bytes never read as more than 100 %.
    /// </summary>
    public (long Bytes, long Total) Progress()
    {
        long bytes = 0, total = 0;
        var known = true;
        foreach (var (b, t) in _progress.Values)
        {
            bytes += b;
            total += t;
            known &= t > 0;
        }

        return (bytes, known ? Math.Max(total, bytes) : 0);
    }

    /// <summary>Each receiving VMM's bytes so far, its total (0 while unknown), and whether its copies are verified.</summary>
    public IReadOnlyList<VmmTransferProgress> ProgressByVmm() =>
        _progress.Select(p => new VmmTransferProgress(p.Key, p.Value.Bytes, p.Value.Total, _verified.ContainsKey(p.Key)))
            .OrderBy(p => p.VmmId, StringComparer.Ordinal)
            .ToList();

    internal void OnRegistered(VmmRegistered message)
    {
        _registered.TryAdd(message.VmmId, 0);
        if (_registered.Count >= expectedHosts)
        {
            _allRegistered.TrySetResult();
        }
    }

    internal void OnRequested(BroadcastRequested message)
    {
        if (_requested.TrySetResult(message))
        {
            Said?.Invoke($"policy '{message.PolicyName}' requested a {Describe(message.Mode)} from {message.RootVmmId}: {message.Reason}");
        }
    }

    internal void OnTree(TreeResolved message)
    {
        if (Tree is null && IsThisRun(message.OperationId))
        {
            Tree = message.Tree;
            Said?.Invoke($"tree v{message.Tree.Version} over {message.Tree.Nodes.Count} VMMs (fan-out {message.Tree.FanOut}, {message.Tree.Stripes} stripes):");
            for (var stripe = 0; stripe < message.Tree.Stripes; stripe++)
            {
                if (message.Tree.Stripes > 1)
                {
                    Said?.Invoke($"  stripe {stripe}:");
                }

                foreach (var line in TreeDrawing.Lines(message.Tree, stripe))
                {
                    Said?.Invoke((message.Tree.Stripes > 1 ? "    " : "  ") + line);
                }
            }
        }
    }

    internal void OnPaused(VmsPaused message)
    {
        // A QEMU image still being saved has no size yet: it is streamed as it is written.
        var size = message.Vms.All(v => v.IsSealed)
            ? Format.Bytes(message.Vms.Sum(v => v.Bytes))
            : $"{message.Vms.Count(v => !v.IsSealed)} images still being saved";
        Said?.Invoke($"paused {message.Vms.Count} VMs on {message.VmmId} ({size})");
    }

    internal void OnProgress(TransferProgressed message)
    {
        TransferStartedAt ??= DateTimeOffset.UtcNow;
        _progress.AddOrUpdate(
            message.VmmId,
            (message.BytesReceived, message.TotalBytes),
            (_, old) => (Math.Max(old.Bytes, message.BytesReceived), message.TotalBytes));
    }

    internal void OnReceived(VmsReceived message)
    {
        _verified.TryAdd(message.VmmId, 0);
        _progress.AddOrUpdate(message.VmmId, _ => (0, 0), (_, old) => (old.Total, old.Total));
        Said?.Invoke($"{message.VmmId} verified {message.Vms.Count} VMs (SHA-256)");
    }

    internal void OnStepFailed(OperationStepFailed message) =>
        Said?.Invoke($"{message.Step.ToString().ToLowerInvariant()} failed on {message.VmmId}: {message.Reason}");

    internal void OnWorkloadStarted(WorkloadStarted message) =>
        Said?.Invoke($"workload {message.WorkloadId} started on {message.VmmId}");

    internal void OnWorkloadCompleted(WorkloadCompleted message)
    {
        Said?.Invoke($"workload {message.WorkloadId} completed on {message.VmmId}");
        _workloadCompleted.TrySetResult(message);
    }

    internal void OnWatch(DeadlineWatchRequested message) =>
        Said?.Invoke($"policy '{message.PolicyName}' watches workload {message.WorkloadId}: deadline {message.Deadline.TotalSeconds:0.###} s");

    internal void OnFinished(BroadcastOperationFinished message)
    {
        if (IsThisRun(message.OperationId))
        {
            _finished.TrySetResult(message);
        }
    }

    // The observer sees every operation on the bus; the run reports only the first one requested.
    private bool IsThisRun(Guid operationId) =>
        _requested.Task.IsCompleted && _requested.Task.Result.OperationId == operationId;

    private static string Describe(BroadcastMode mode) => mode == BroadcastMode.Duplicate ? "duplication" : "broadcast";
}

/// <summary>One receiving VMM's progress as the embedded run saw it (<see cref="RunObserver.ProgressByVmm"/>).</summary>
public sealed record VmmTransferProgress(string VmmId, long Bytes, long Total, bool Verified);
