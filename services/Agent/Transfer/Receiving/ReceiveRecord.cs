using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>What a receiver records of its receive (<c>receive.json</c>), so that a restarted agent resumes it.</summary>
/// <param name="Announcement">The newest announcement it follows: tree (its parent), token, and the manifest its spools were laid out for.</param>
/// <param name="Verified">
/// Per spool (per stripe in stripe order, per VM of the manifest), what it holds once it matched its SHA-256 (size and
/// digest), else null: the image, or in a striped receive the stripe.
/// </param>
/// <param name="Stripes">How the spools were laid out (<see cref="Striping.StripeLayout"/>); 1 in a record written before stripes existed.</param>
/// <param name="Adopted">The VMs the VMM adopted from this receive (their spool files moved into the VMM).</param>
public sealed record ReceiveRecord(
    PendingTransferAnnounced Announcement,
    IReadOnlyList<VmImage?> Verified,
    IReadOnlyList<string> Adopted,
    DateTimeOffset UpdatedAt,
    int Stripes = 1);
