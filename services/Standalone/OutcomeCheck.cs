using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>
/// Checks a finished operation against what the VMMs themselves hold: every VMM of the tree must hold
/// every root VM with the root's SHA-256, paused after a broadcast and running after a duplication. An operation that
/// ended <c>CompletedWithFailures</c> is not verified: some VMMs hold no copies.
/// </summary>
public static class OutcomeCheck
{
    public static RunSummary Summarize(
        BroadcastOperationFinished finished,
        IReadOnlyDictionary<string, IReadOnlyList<VmCopy>> vmms,
        DateTimeOffset? transferStartedAt)
    {
        var problems = new List<string>();
        var duplicate = finished.Mode == BroadcastMode.Duplicate;
        var expectedState = duplicate ? VmState.Running : VmState.Paused;
        var expectedFinal = duplicate ? OperationFinalState.Duplicated : OperationFinalState.Completed;
        if (finished.State != expectedFinal)
        {
            // CompletedWithFailures: the copies that exist are good, but not every VMM holds them; say which failed.
            problems.Add(finished.FailureReason is { } reason
                ? $"the operation ended {finished.State}, not {expectedFinal}: {reason}"
                : $"the operation ended {finished.State}, not {expectedFinal}");
        }

        var nodes = finished.Tree?.Nodes ?? [];
        var hosts = new List<SummaryHost>();
        long delivered = 0;
        foreach (var node in nodes)
        {
            var held = vmms.TryGetValue(node.VmmId, out var copies) ? copies : [];
            hosts.Add(new SummaryHost(node.VmmId, held.Select(c => new SummaryHostVm(c.VmId, c.Sha256, c.State.ToString(), c.MacAddress)).ToList()));
            foreach (var vm in finished.Vms)
            {
                var copy = held.FirstOrDefault(c => c.VmId == vm.VmId);
                if (copy is null)
                {
                    problems.Add($"{node.VmmId} does not hold {vm.VmId}");
                }
                else if (!string.Equals(copy.Sha256, vm.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{node.VmmId} holds {vm.VmId} with SHA-256 {copy.Sha256}, the root's is {vm.Sha256}");
                }
                else
                {
                    if (node.VmmId != finished.RootVmmId)
                    {
                        delivered += vm.Bytes;
                    }

                    if (copy.State != expectedState)
                    {
                        problems.Add($"{node.VmmId} holds {vm.VmId} {copy.State}, expected {expectedState}");
                    }
                }
            }
        }

        if (nodes.Count == 0)
        {
            problems.Add("the operation has no tree");
        }

        // Only copies a receiving VMM holds with the root's digest count as delivered: after CompletedWithFailures
        // some VMMs hold nothing, and a rate over every VMM of the tree would report bytes that never arrived.
        double? rate = null;
        if (transferStartedAt is { } started && finished.FinishedAt > started && delivered > 0)
        {
            rate = delivered / (double)(1 << 20) / (finished.FinishedAt - started).TotalSeconds;
        }

        return new RunSummary
        {
            OperationId = finished.OperationId,
            Mode = duplicate ? "duplicate" : "broadcast",
            State = finished.State.ToString(),
            Root = finished.RootVmmId,
            Tree = nodes.Select(n => new SummaryTreeNode(n.VmmId, n.ParentVmmId, n.Location)).ToList(),
            Vms = finished.Vms.Select(v => new SummaryVm(v.VmId, v.Bytes, v.Sha256)).ToList(),
            Hosts = hosts,
            ElapsedMs = (long)(finished.FinishedAt - finished.RequestedAt).TotalMilliseconds,
            TransferMiBPerSecond = rate is null ? null : Math.Round(rate.Value, 1),
            FailureReason = finished.FailureReason,
            Problems = problems,
            Verified = problems.Count == 0,
        };
    }
}
