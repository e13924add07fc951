using Microsoft.Win32.SafeHandles;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// Tails a relay's spool while it grows: each child's forwarder owns one, so a slow child only slows its
/// own reads, never the receive from the parent or a sibling's forward.
/// </summary>
public sealed class SpoolImageSource : ImageSource
{
    private readonly ImageSpool _spool;
    private readonly FileStream _file;
    private readonly SafeFileHandle _handle;

    public SpoolImageSource(ImageSpool spool)
    {
        _spool = spool;
        // Opened now, before the spool can be adopted (moved) into the VMM: the handle keeps reading the same file.
        _file = spool.OpenRead();
        _handle = _file.SafeFileHandle;
    }

    protected override ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        _spool.ReadAsync(_handle, offset, buffer, cancellationToken);

    /// <summary>What this relay verified against its parent's end marker: the root's size and digest, passed on unchanged.</summary>
    protected override async Task<VmImage> SealedCoreAsync(CancellationToken cancellationToken) => await _spool.VerifiedAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }
    }
}
