namespace Treecast.Agent.Transfer;

/// <summary>
/// The most bytes per second one agent sends down the tree, over all its children together (its uplink's share for
/// Treecast, as Proxmox's migration <c>bwlimit</c> or KubeVirt's <c>bandwidthPerMigration</c>). Paces chunks: each
/// reserves its share of a second after the previous ones, so no burst exceeds one chunk.
/// </summary>
public sealed class SendRateLimit(long bytesPerSecond, TimeProvider clock)
{
    /// <summary>No limit: every wait returns at once.</summary>
    public static SendRateLimit None { get; } = new(0, TimeProvider.System);

    private readonly Lock _gate = new();
    private long _nextFree;

    public long BytesPerSecond => bytesPerSecond;

    /// <summary>Waits until <paramref name="bytes"/> more may be sent.</summary>
    public async ValueTask WaitAsync(int bytes, CancellationToken cancellationToken)
    {
        if (bytesPerSecond <= 0)
        {
            return;
        }

        TimeSpan wait;
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            var start = Math.Max(now, _nextFree);
            _nextFree = start + (long)((double)bytes * clock.TimestampFrequency / bytesPerSecond);
            wait = clock.GetElapsedTime(now, start);
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }
}
