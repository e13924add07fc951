namespace Treecast.Topology.Trees;

/// <summary>
/// The fan-out a tree gets when neither the policy nor the configuration names one: the one that delivers the root's
/// images to every receiver soonest under a pipelined model, the choice MPI's broadcasts make between a chain (large
/// messages) and a k-ary tree (small ones, or very many receivers).
/// </summary>
/// <remarks>
/// Every interior VMM sends each chunk to its k children over one uplink of B bytes/s, so the root needs k·S/B to send
/// the images (S bytes) and each level below adds a pipeline fill of k·c/B (chunks of c bytes) plus the hop's own delay.
/// The last receiver finishes after about T(k) = (k·S + depth(k)·k·(c + h)) / B, h being a hop's delay beyond its
/// chunk in bytes; B drops out of the comparison. A chain (k = 1) sends every byte once per host, at the price of a
/// depth of N; a fan-out of 2 halves the depth's share per level but every interior host sends 2·S. So a chain wins
/// while N·(c + h) is small against S: 7 or 15 hosts and 128 MiB images go down a chain, 100,000 VMMs with 4 GiB
/// images down a fan-out of 2.
/// </remarks>
public static class FanOutChoice
{
    /// <summary>The fan-out when the root's image size is not known (no VM reported one): a depth of log₂ N whatever N is.</summary>
    public const int WhenSizeUnknown = 2;

    /// <summary>The largest fan-out the model weighs: beyond it an interior host's k·S only grows.</summary>
    public const int MaxConsidered = 8;

    /// <summary>
    /// A hop's delay beyond its own chunk, in bytes at the link's rate. Measured with <c>bench broadcast</c> on chains of
    /// 7 hosts (1 MiB chunks, 50 and 100 Mbit/s): each hop added 0.4–0.6 s beyond S/B, 3.5–4.8 MiB's worth at those
    /// rates. Kept in bytes, not chunks: a hop's set-up and wake-ups do not shrink with the chunk.
    /// </summary>
    public const double HopDelayBytes = 4.0 * 1024 * 1024;

    /// <summary>The fan-out with the smallest modelled time; ties go to the larger fan-out (the shallower tree).</summary>
    /// <param name="receivers">VMMs that receive (the tree's members but the root).</param>
    /// <param name="imageBytes">The root's images together, as its heartbeats last reported them; 0 when unknown.</param>
    /// <param name="chunkBytes">The operation's chunk size.</param>
    public static int For(int receivers, long imageBytes, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(receivers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        if (imageBytes <= 0)
        {
            return WhenSizeUnknown;
        }

        if (receivers <= 1)
        {
            return 1;
        }

        var best = 1;
        var bestTime = double.MaxValue;
        for (var k = 1; k <= Math.Min(MaxConsidered, receivers); k++)
        {
            var time = ModelledTime(k, receivers, imageBytes, chunkBytes);
            if (time <= bestTime)
            {
                (best, bestTime) = (k, time);
            }
        }

        return best;
    }

    /// <summary>T(k)·B in bytes: what the busiest uplink sends plus one pipeline fill per level.</summary>
    public static double ModelledTime(int fanOut, int receivers, long imageBytes, int chunkBytes) =>
        fanOut * ((double)imageBytes + (Depth(fanOut, receivers) * (chunkBytes + HopDelayBytes)));

    /// <summary>Levels below the root of a full tree of <paramref name="fanOut"/> over <paramref name="receivers"/> VMMs.</summary>
    public static int Depth(int fanOut, int receivers)
    {
        if (fanOut == 1)
        {
            return receivers;
        }

        var depth = 0;
        long placed = 0;
        long level = 1;
        while (placed < receivers)
        {
            level *= fanOut;
            placed += level;
            depth++;
        }

        return depth;
    }
}
