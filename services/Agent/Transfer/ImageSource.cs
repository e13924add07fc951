using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// Where a forwarder reads one VM image from: the VMM's own image (root) or a growing spool (relay). A read that fails
/// throws <see cref="ImageSourceException"/>, so a forwarder tells a broken source (final) from a broken link to its
/// child (resumed), though both surface as <see cref="IOException"/> underneath.
/// </summary>
public abstract class ImageSource : IDisposable
{
    /// <summary>
    /// Reads bytes starting at <paramref name="offset"/> into <paramref name="buffer"/>, waiting until some
    /// exist; returns how many (at least one while <paramref name="offset"/> is below the image size, 0 at its end).
    /// </summary>
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadCoreAsync(offset, buffer, cancellationToken);
        }
        catch (Exception e) when (IsSourceFailure(e, cancellationToken))
        {
            throw new ImageSourceException(e);
        }
    }

    /// <summary>
    /// The image's final size and SHA-256, for an image announced unsealed: known once its stream ended. The forwarder
    /// asks after reading to the end and sends them in the VM's end marker.
    /// </summary>
    public async Task<VmImage> SealedAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await SealedCoreAsync(cancellationToken);
        }
        catch (Exception e) when (IsSourceFailure(e, cancellationToken))
        {
            throw new ImageSourceException(e);
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="ReadAsync"/>
    protected abstract ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <inheritdoc cref="SealedAsync"/>
    protected abstract Task<VmImage> SealedCoreAsync(CancellationToken cancellationToken);

    protected virtual void Dispose(bool disposing)
    {
    }

    // A read the forwarder cancelled is not the source's failure.
    private static bool IsSourceFailure(Exception e, CancellationToken cancellationToken) =>
        e is not ImageSourceException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested);
}
