using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Striping;

/// <summary>
/// How an operation's images are cut into stripes (SplitStream's idea, <see cref="VmmTree"/>): with k stripes and chunks
/// of C bytes, stripe s of an image is its chunks s, s + k, s + 2k, … laid end to end, and travels down stripe s's tree
/// as a stream of its own. A layout of one stripe is the image itself. Both ends of a push, the root's stripe views and
/// a receiver's assembly compute offsets here and nowhere else.
/// </summary>
public readonly record struct StripeLayout(int Stripes, int ChunkSizeBytes)
{
    /// <summary>One stripe: the image as it is.</summary>
    public static StripeLayout Whole { get; } = new(1, TransferLimits.DefaultChunkSizeBytes);

    /// <summary>
    /// The layout of an announced operation: its tree's stripes and its chunk size. One stripe when any image is unsealed
    /// (a stripe's size follows from its image's): the root announces stripe 0's tree alone then (see
    /// <see cref="TransferEngine.Announce"/>), and a receiver reads such an announcement the same way whatever its tree.
    /// </summary>
    public static StripeLayout Of(PendingTransferAnnounced announcement)
    {
        ArgumentNullException.ThrowIfNull(announcement);
        var stripes = announcement.Vms.All(v => v.IsSealed) ? Math.Max(announcement.Tree.Stripes, 1) : 1;
        return new(stripes, TransferLimits.ClampChunkSize(announcement.ChunkSizeBytes));
    }

    public bool IsStriped => Stripes > 1;

    /// <summary>The bytes of <paramref name="stripe"/> of an image of <paramref name="imageBytes"/> bytes.</summary>
    public long LengthOf(long imageBytes, int stripe)
    {
        if (!IsStriped)
        {
            return imageBytes;
        }

        var chunks = (imageBytes + ChunkSizeBytes - 1) / ChunkSizeBytes;
        if (stripe >= chunks)
        {
            return 0;
        }

        var count = ((chunks - 1 - stripe) / Stripes) + 1;
        var last = stripe + ((count - 1) * Stripes);
        var lastBytes = last == chunks - 1 ? imageBytes - (last * ChunkSizeBytes) : ChunkSizeBytes;
        return ((count - 1) * ChunkSizeBytes) + lastBytes;
    }

    /// <summary>Where the byte at <paramref name="stripeOffset"/> of <paramref name="stripe"/> sits in the image.</summary>
    public long ImageOffset(int stripe, long stripeOffset) =>
        IsStriped ? ((((stripeOffset / ChunkSizeBytes) * Stripes) + stripe) * ChunkSizeBytes) + (stripeOffset % ChunkSizeBytes) : stripeOffset;

    /// <summary>How many bytes from <paramref name="stripeOffset"/> on lie in one piece of the image (to the end of their chunk).</summary>
    public int ContiguousFrom(long stripeOffset) =>
        IsStriped ? ChunkSizeBytes - (int)(stripeOffset % ChunkSizeBytes) : int.MaxValue;

    /// <summary>
    /// The parent of <paramref name="vmmId"/> for <paramref name="stripe"/>: its parent in that stripe's tree, or in stripe
    /// 0's for a stripe the tree does not have (a repaired tree of fewer stripes; stripe 0's tree alone carries everything).
    /// </summary>
    public static string? ParentOf(VmmTree tree, string vmmId, int stripe)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return tree.Find(vmmId)?.ParentIn(stripe < tree.Stripes ? stripe : 0);
    }

    /// <summary>The children of <paramref name="vmmId"/> in each of <paramref name="stripes"/> stripes, with the stripe each is fed.</summary>
    public static IEnumerable<(TreeNode Child, int Stripe)> ChildrenInEveryStripe(VmmTree tree, string vmmId, int stripes) =>
        Enumerable.Range(0, stripes).SelectMany(stripe => ChildrenOf(tree, vmmId, stripe).Select(child => (child, stripe)));

    /// <summary>The children of <paramref name="vmmId"/> for <paramref name="stripe"/>, read the same way as <see cref="ParentOf"/>.</summary>
    public static IEnumerable<TreeNode> ChildrenOf(VmmTree tree, string vmmId, int stripe)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return tree.ChildrenOf(vmmId, stripe < tree.Stripes ? stripe : 0);
    }
}
