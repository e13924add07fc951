using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>Where a forwarder reads one VM image from: the VMM's own image (root) or a growing spool (relay).</summary>
public abstract class ImageSource : IDisposable
{
    /// <summary>
    /// Reads bytes starting at <paramref name="offset"/> into <paramref name="buffer"/>, waiting until some
    /// exist; returns how many (at least one while <paramref name="offset"/> is below the image size, 0 at its end).
    /// </summary>
    public abstract ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// The image's final size and SHA-256, for an image announced unsealed: known once its stream ended. The forwarder
    /// asks after reading to the end and sends them in the VM's end marker.
    /// </summary>
    public abstract Task<VmImage> SealedAsync(CancellationToken cancellationToken);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
