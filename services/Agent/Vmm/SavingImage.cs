using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>
/// A paused VM's image its VMM is still saving (a migration stream of unknown length), a <see cref="GrowingImageFile"/>
/// written at a partial path: readers follow it as it grows, and it is sealed (size and SHA-256 known, file moved to its
/// final path) or failed (readers get the reason, the partial file goes) when the stream ends.
/// </summary>
public sealed class SavingImage : IAsyncDisposable
{
    private readonly GrowingImageFile _file;

    /// <param name="writingPath">Where the stream is written while it grows.</param>
    /// <param name="finalPath">Where the sealed image ends up (replacing a previous image there only once sealed).</param>
    public SavingImage(string vmId, string writingPath, string finalPath)
    {
        VmId = vmId;
        WritingPath = writingPath;
        FinalPath = finalPath;
        _file = GrowingImageFile.Create(VmImage.Unsealed(vmId), writingPath);
    }

    public string VmId { get; }

    public string WritingPath { get; }

    public string FinalPath { get; }

    /// <summary>Bytes written so far; readers never read past this.</summary>
    public long Length => _file.Length;

    /// <summary>Completes with the final size and SHA-256 when the stream ended well; faults with the reason otherwise.</summary>
    public Task<VmImage> Sealed => _file.Sealed;

    /// <summary>Appends the next bytes of the stream (one writer, in order).</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _file.AppendAsync(data, cancellationToken);

    /// <summary>The stream ended well: moves the file to <see cref="FinalPath"/> and announces the size and digest.</summary>
    public async Task<VmImage> SealAsync()
    {
        var image = await _file.SealAsync(durable: false, moveTo: FinalPath);
        _file.Dispose();
        return image;
    }

    /// <summary>The stream broke: readers get <paramref name="reason"/>, and the partial file goes.</summary>
    public Task FailAsync(Exception reason)
    {
        // The outcome first, the file after: a reader that finds the file gone then always finds the reason.
        _file.Fail(reason);
        _file.Dispose();
        File.Delete(WritingPath);
        return Task.CompletedTask;
    }

    /// <summary>A stream that reads the image from the start, waits while it grows, and ends where the sealed image ends.</summary>
    public Stream OpenRead() => _file.OpenFollower();

    public async ValueTask DisposeAsync()
    {
        if (!Sealed.IsCompleted)
        {
            await FailAsync(new ObjectDisposedException(nameof(SavingImage), $"The image of VM {VmId} was abandoned before its stream ended."));
        }
    }
}
