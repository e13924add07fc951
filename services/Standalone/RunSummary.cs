namespace Treecast.Standalone;

/// <summary>The one JSON object <c>--json</c> prints at the end of an embedded run.</summary>
public sealed record RunSummary
{
    public Guid? OperationId { get; init; }

    /// <summary><c>broadcast</c> or <c>duplicate</c>.</summary>
    public required string Mode { get; init; }

    /// <summary><c>Completed</c>, <c>Duplicated</c>, <c>CompletedWithFailures</c>, <c>Failed</c>, <c>Cancelled</c>, <c>TimedOut</c> or <c>CompletedInTime</c>.</summary>
    public required string State { get; init; }

    public required string Root { get; init; }

    public IReadOnlyList<SummaryTreeNode> Tree { get; init; } = [];

    /// <summary>The root's VMs as announced: size and SHA-256.</summary>
    public IReadOnlyList<SummaryVm> Vms { get; init; } = [];

    /// <summary>What every VMM of the tree holds at the end, read from the VMMs themselves.</summary>
    public IReadOnlyList<SummaryHost> Hosts { get; init; } = [];

    public long ElapsedMs { get; init; }

    public double? TransferMiBPerSecond { get; init; }

    /// <summary>CPU seconds this process spent from the event to the outcome (every service and agent in it).</summary>
    public double? CpuSeconds { get; init; }

    public string? FailureReason { get; init; }

    /// <summary>Every check that did not hold (a missing copy, a digest that differs, a VM in the wrong state).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Messages a consumer failed on for good, after every retry; anything but 0 is a problem of the run.</summary>
    public int FaultedMessages { get; init; }

    public bool Verified { get; init; }
}

public sealed record SummaryTreeNode(string Vmm, string? Parent, string Location);

public sealed record SummaryVm(string Vm, long Bytes, string Sha256);

public sealed record SummaryHost(string Vmm, IReadOnlyList<SummaryHostVm> Vms);

public sealed record SummaryHostVm(string Vm, string? Sha256, string State, string? Mac);
