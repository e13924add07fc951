using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>Sizes the client and the server of the chunk stream agree on.</summary>
public static class TransferLimits
{
    public const int DefaultChunkSizeBytes = ChunkSizes.DefaultBytes;

    public const int MinChunkSizeBytes = 4 * 1024;

    /// <summary>Larger announced chunks are cut to this; a chunk is held in memory twice per forwarder.</summary>
    public const int MaxChunkSizeBytes = 16 * 1024 * 1024;

    /// <summary>A chunk frame plus its protobuf framing must fit in one gRPC message.</summary>
    public const int MaxMessageBytes = MaxChunkSizeBytes + (1024 * 1024);

    /// <summary>
    /// HTTP/2 flow-control windows: large enough that a 1 MiB chunk never waits for a window update (and above a LAN's
    /// bandwidth-delay product: 10 Gbit/s over 1 ms is 1.25 MB), small enough that a receiver reading slower than its
    /// parent sends does not buffer tens of MiB per stream.
    /// </summary>
    public const int StreamWindowBytes = 4 * 1024 * 1024;

    public const int ConnectionWindowBytes = 8 * 1024 * 1024;

    /// <summary>
    /// The most a receiver accepts for an image announced without a size (a migration stream still being written) before
    /// refusing the stream as a runaway: far above any VM's state, far below a full disk.
    /// </summary>
    public const long DefaultMaxUnsealedImageBytes = 64L * 1024 * 1024 * 1024;

    public static int ClampChunkSize(int requested) =>
        requested <= 0 ? DefaultChunkSizeBytes : Math.Clamp(requested, MinChunkSizeBytes, MaxChunkSizeBytes);
}
