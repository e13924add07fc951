namespace Treecast.Agent.Transfer;

/// <summary>Where a forwarder reads one VM image from: the VMM's own image (root) or a growing spool (relay).</summary>
public abstract class ImageSource : IDisposable
{
    /// <summary>
    /// Reads bytes starting at <paramref name="offset"/> into <paramref name="buffer"/>, waiting until some
    /// exist; returns how many (at least one while <paramref name="offset"/> is below the image size).
    /// </summary>
    public abstract ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
