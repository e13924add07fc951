using Treecast.Contracts;

namespace Treecast.Policy.Policies;

/// <summary>Action names as written in policy files, and the limits every action's settings must respect.</summary>
public static class PolicyActionNames
{
    public const string Broadcast = "broadcast";
    public const string DuplicateIfNotCompletedWithin = "duplicateIfNotCompletedWithin";

    /// <summary>Leaving <c>fanOut</c> out lets topology pick it for the root's image size and the fleet (sent as 0).</summary>
    public const int DefaultFanOut = 0;
    public const int MinFanOut = 1;
    public const int MaxFanOut = 64;

    /// <summary>0 in a file leaves the stripes to topology's default, as leaving the key out does.</summary>
    public const int DefaultStripes = 0;
    public const int MaxStripes = Contracts.VmmTree.MaxStripes;

    public const int DefaultChunkSizeKiB = ChunkSizes.DefaultBytes / 1024;
    public const int MinChunkSizeKiB = 4;
    public const int MaxChunkSizeKiB = 16 * 1024;
}
