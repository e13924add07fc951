namespace Treecast.Agent.Vmm;

/// <summary>
/// The VMs of one VMM by id and the workloads they carry, shared by both drivers: one lock (never held across I/O, an
/// await, or a call out to event handlers), find-or-throw, snapshots, disposal, and each workload completion raised once.
/// </summary>
internal sealed class VmTable<TVm>(string vmmId, Type owner, TimeProvider timeProvider, ILogger logger)
    where TVm : class, ITableVm
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TVm> _vms = new(StringComparer.Ordinal);
    private readonly WorkloadTracker _workloads = new();
    private long _evaluations;
    private bool _disposed;

    /// <summary>Raised once per carrier when every VM running the workload has reached its target.</summary>
    public event Action<string>? WorkloadCompleted;

    public void ThrowIfDisposed()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
        }
    }

    /// <summary>Marks the VMM disposed; false when it already was, so only the first disposal runs.</summary>
    public bool TryDispose()
    {
        lock (_gate)
        {
            var first = !_disposed;
            _disposed = true;
            return first;
        }
    }

    /// <summary>The VM of that id; throws, naming the VMs there are, when there is none.</summary>
    public TVm Find(string vmId)
    {
        lock (_gate)
        {
            return _vms.TryGetValue(vmId, out var vm)
                ? vm
                : throw new KeyNotFoundException(
                    $"VMM {vmmId} has no VM {vmId}; it supports {(_vms.Count == 0 ? "none" : string.Join(", ", _vms.Keys))}.");
        }
    }

    public TVm? Get(string vmId)
    {
        lock (_gate)
        {
            return _vms.GetValueOrDefault(vmId);
        }
    }

    /// <summary>
    /// Adds the VM, replacing one of its id (true when it did). An adopted copy carrying a workload makes that workload's
    /// completion here news again.
    /// </summary>
    public bool Put(TVm vm, string? carriedWorkloadId)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
            var replaced = _vms.ContainsKey(vm.VmId);
            _vms[vm.VmId] = vm;
            if (carriedWorkloadId is not null)
            {
                _workloads.Carried(carriedWorkloadId);
            }

            return replaced;
        }
    }

    /// <summary>Forgets the VM of that id when <paramref name="condition"/> holds for it; returns it, or null.</summary>
    public TVm? Remove(string vmId, Func<TVm, bool>? condition = null)
    {
        lock (_gate)
        {
            if (!_vms.TryGetValue(vmId, out var vm) || (condition is not null && !condition(vm)))
            {
                return null;
            }

            _vms.Remove(vmId);
            return vm;
        }
    }

    /// <summary>The VMs now, in the order they were added.</summary>
    public IReadOnlyList<TVm> All()
    {
        lock (_gate)
        {
            return [.. _vms.Values];
        }
    }

    /// <summary>
    /// <paramref name="selector"/> applied to every VM under the lock, so the results are of one moment (no workload is
    /// evaluated in between); throws once the VMM is disposed.
    /// </summary>
    public IReadOnlyList<T> Select<T>(Func<TVm, T> selector)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
            return [.. _vms.Values.Select(selector)];
        }
    }

    public IReadOnlyList<VmInfo> Infos()
    {
        lock (_gate)
        {
            var now = timeProvider.GetTimestamp();
            return [.. _vms.Values.Select(vm => vm.InfoAt(now))];
        }
    }

    /// <summary>
    /// Starts a workload: <paramref name="start"/> applied to every VM, then the workload is news again. Atomic with respect
    /// to workload evaluations; nothing is started when <paramref name="start"/> throws for a VM.
    /// </summary>
    public IReadOnlyList<T> StartWorkload<T>(string workloadId, Func<TVm, T> start)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
            IReadOnlyList<T> started = [.. _vms.Values.Select(start)];
            _workloads.Started(workloadId);
            return started;
        }
    }

    public WorkloadReport Report(string workloadId)
    {
        lock (_gate)
        {
            return _workloads.Report(workloadId);
        }
    }

    /// <summary>
    /// Completes every workload whose carriers have all reached their target and was not raised since it was news;
    /// <paramref name="stillWorking"/> sees, with the same timestamp, the carriers of each workload that is not done yet.
    /// Evaluations are numbered in the order they ran (<see cref="IsLatest"/>); raise the result with <see cref="Raise"/>.
    /// </summary>
    public WorkloadEvaluation CompleteWorkloads(Action<IEnumerable<TVm>, long>? stillWorking = null)
    {
        var completed = new List<string>();
        lock (_gate)
        {
            if (_disposed)
            {
                return WorkloadEvaluation.None;
            }

            var now = timeProvider.GetTimestamp();
            var carried = _vms.Values.Select(vm => (Vm: vm, Workload: vm.WorkloadAt(now))).Where(c => c.Workload is not null);
            foreach (var carriers in carried.GroupBy(c => c.Workload!.WorkloadId))
            {
                if (_workloads.IsRaised(carriers.Key))
                {
                    continue;
                }

                if (carriers.All(c => c.Workload!.IsDone))
                {
                    _workloads.TryComplete(carriers.Key, timeProvider.GetUtcNow());
                    completed.Add(carriers.Key);
                    continue;
                }

                stillWorking?.Invoke(carriers.Select(c => c.Vm), now);
            }

            return new WorkloadEvaluation(completed, ++_evaluations);
        }
    }

    /// <summary>True when no evaluation ran after <paramref name="evaluation"/>: what it found is still the news.</summary>
    public bool IsLatest(WorkloadEvaluation evaluation) => evaluation.Number == Interlocked.Read(ref _evaluations);

    /// <summary>Raises <see cref="WorkloadCompleted"/> for each workload the evaluation completed.</summary>
    public void Raise(WorkloadEvaluation evaluation)
    {
        foreach (var workloadId in evaluation.Completed)
        {
            logger.LogInformation("Workload {WorkloadId} completed on {VmmId}", workloadId, vmmId);
            try
            {
                WorkloadCompleted?.Invoke(workloadId);
            }
            catch (Exception ex)
            {
                // A handler's failure must not stop the timer or the poller that raises the next completion.
                logger.LogError(ex, "A WorkloadCompleted handler failed for workload {WorkloadId} on {VmmId}", workloadId, vmmId);
            }
        }
    }
}

/// <summary>The workloads one evaluation completed, and its number among the evaluations of its table.</summary>
internal sealed record WorkloadEvaluation(IReadOnlyList<string> Completed, long Number)
{
    public static WorkloadEvaluation None { get; } = new([], -1);
}
