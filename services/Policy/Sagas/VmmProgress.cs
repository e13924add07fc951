using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>How far one VMM of the tree has got in the operation.</summary>
public sealed class VmmProgress
{
    public string VmmId { get; set; } = string.Empty;

    public string Location { get; set; } = string.Empty;

    /// <summary>The parent in stripe 0's tree (the only tree of a tree of one stripe).</summary>
    public string? ParentVmmId { get; set; }

    /// <summary>In a striped tree, the parent in each stripe's tree (index = stripe, entry 0 = <see cref="ParentVmmId"/>); null otherwise.</summary>
    public List<string?>? StripeParents { get; set; }

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

    /// <summary>
    /// Why it failed: <c>{step} failed: {agent's reason}</c>, <c>lost: {reason}</c>, <c>unreachable from {vmm}: {reason}</c>,
    /// <c>left out of tree v{n}: …</c>, or <c>parent {vmm} failed</c> (its parent failed and no repaired tree could feed it).
    /// </summary>
    public string? FailureReason { get; set; }

    /// <summary>
    /// True when it failed because it could not be reached (lost, unreachable, its parent could not feed it, left out of a
    /// repaired tree), not because its own step failed: if it comes back while the transfer runs, it rejoins.
    /// </summary>
    public bool MayRejoin { get; set; }

    /// <summary>Every VMM that feeds this one a stripe (its one parent, in a tree of one stripe); none for the root.</summary>
    public IEnumerable<string> Parents() =>
        (StripeParents ?? [ParentVmmId]).Append(ParentVmmId).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>True when <paramref name="parentVmmId"/> feeds this VMM in some stripe.</summary>
    public bool IsFedBy(string parentVmmId) => Parents().Contains(parentVmmId, StringComparer.Ordinal);
}
