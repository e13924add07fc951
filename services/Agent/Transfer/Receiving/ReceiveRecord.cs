using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>What a receiver records of its receive (<c>receive.json</c>), so that a restarted agent resumes it.</summary>
/// <param name="Announcement">The newest announcement it follows: tree (its parent), token, and the manifest its spools were laid out for.</param>
/// <param name="Verified">Per VM of the manifest, the image once it matched its SHA-256 (size and digest), else null.</param>
/// <param name="Adopted">The VMs the VMM adopted from this receive (their spool files moved into the VMM).</param>
public sealed record ReceiveRecord(
    PendingTransferAnnounced Announcement,
    IReadOnlyList<VmImage?> Verified,
    IReadOnlyList<string> Adopted,
    DateTimeOffset UpdatedAt);
