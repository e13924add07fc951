using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>A paused VM's image as its VMM serves it (the root of a transfer reads these), possibly while it is still written.</summary>
public sealed class VmmImageSource(Func<Stream> open, Func<CancellationToken, Task<VmImage>> seal) : ImageSource
{
    /// <summary>The image of <paramref name="vmId"/> as <paramref name="vmm"/> holds it (the root's own VM, or a copy it adopted).</summary>
    public static VmmImageSource Of(IVmm vmm, string vmId) =>
        new(() => vmm.OpenImage(vmId), cancellationToken => vmm.SealedImageAsync(vmId, cancellationToken));

    private Stream? _stream;
    private long _position;

    protected override async ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var stream = await PositionAsync(offset, cancellationToken);
        var read = await stream.ReadAsync(buffer, cancellationToken);
        _position += read;
        return read;
    }

    protected override Task<VmImage> SealedCoreAsync(CancellationToken cancellationToken) => seal(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private async ValueTask<Stream> PositionAsync(long offset, CancellationToken cancellationToken)
    {
        if (_stream is not null && offset == _position)
        {
            return _stream;
        }

        // A resumed stream starts where the receiver stopped: seek when the VMM's stream allows it,
        // otherwise reopen and skip.
        if (_stream is { CanSeek: true })
        {
            _stream.Seek(offset, SeekOrigin.Begin);
            _position = offset;
            return _stream;
        }

        if (_stream is null || offset < _position)
        {
            _stream?.Dispose();
            _stream = open();
            _position = 0;
            if (_stream.CanSeek)
            {
                _stream.Seek(offset, SeekOrigin.Begin);
                _position = offset;
                return _stream;
            }
        }

        var skip = new byte[81920];
        while (_position < offset)
        {
            var read = await _stream.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, offset - _position)), cancellationToken);
            if (read == 0)
            {
                break;
            }

            _position += read;
        }

        return _stream;
    }
}
