using System.Security.Cryptography;
using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>
/// A VM image still being written (a migration stream of unknown length): readers follow it as it grows, and it is sealed
/// (size and SHA-256 known, file moved to its final path) or failed when the stream ends.
/// </summary>
public sealed class GrowingImage : IAsyncDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly TaskCompletionSource<VmImage> _sealed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly GrowthSignal _grown = new();
    private FileStream? _writer;
    private long _length;

    /// <param name="writingPath">Where the stream is written while it grows.</param>
    /// <param name="finalPath">Where the sealed image ends up (replacing a previous image there only once sealed).</param>
    public GrowingImage(string vmId, string writingPath, string finalPath)
    {
        VmId = vmId;
        WritingPath = writingPath;
        FinalPath = finalPath;
        _writer = ImageFiles.CreateGrowing(writingPath);
        // Whoever asks observes the outcome; a failure nobody awaits must not surface as unobserved.
        _sealed.Task.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    public string VmId { get; }

    public string WritingPath { get; }

    public string FinalPath { get; }

    /// <summary>Bytes written so far; readers never read past this.</summary>
    public long Length => Interlocked.Read(ref _length);

    /// <summary>Completes with the final size and SHA-256 when the stream ended well; faults with the reason otherwise.</summary>
    public Task<VmImage> Sealed => _sealed.Task;

    /// <summary>Appends the next bytes of the stream (one writer, in order).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException($"The image of VM {VmId} is no longer being written.");
        await writer.WriteAsync(data, cancellationToken);
        _sha256.AppendData(data.Span);
        Interlocked.Add(ref _length, data.Length);
        _grown.Raise();
    }

    /// <summary>The stream ended well: moves the file to <see cref="FinalPath"/> and announces the size and digest.</summary>
    public async Task<VmImage> SealAsync()
    {
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync();
        }

        var image = new VmImage(VmId, Length, Convert.ToHexStringLower(_sha256.GetHashAndReset()));
        _sha256.Dispose();
        // Followers opened the writing path already; their handles keep reading the same file after the move.
        File.Move(WritingPath, FinalPath, overwrite: true);
        _sealed.TrySetResult(image);
        _grown.Raise();
        return image;
    }

    /// <summary>The stream broke: followers get <paramref name="reason"/>, and the partial file goes.</summary>
    public async Task FailAsync(Exception reason)
    {
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync();
        }

        // The outcome first, the file after: a reader that finds the file gone then always finds the reason.
        _sealed.TrySetException(reason);
        _grown.Raise();
        File.Delete(WritingPath);
        _sha256.Dispose();
    }

    /// <summary>A stream that reads the image from the start, waits while it grows, and ends where the sealed image ends.</summary>
    public Stream OpenRead()
    {
        FileStream file;
        try
        {
            file = ImageFiles.OpenFollowing(WritingPath);
        }
        catch (FileNotFoundException) when (Sealed.IsCompletedSuccessfully)
        {
            // Sealed (and moved) between the caller's look and this open.
            file = ImageFiles.OpenFollowing(FinalPath);
        }
        catch (FileNotFoundException) when (Sealed.IsFaulted)
        {
            // The stream broke (and its partial file went) before this reader opened it: the reader gets the reason.
            throw Sealed.Exception!.InnerException!;
        }

        return new Follower(this, file);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Sealed.IsCompleted)
        {
            await FailAsync(new ObjectDisposedException(nameof(GrowingImage), $"The image of VM {VmId} was abandoned before its stream ended."));
        }
    }

    /// <summary>Reads by position, so several followers (one per child) share nothing but the file.</summary>
    private sealed class Follower(GrowingImage image, FileStream file) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        /// <summary>What is readable now; final once the image is sealed.</summary>
        public override long Length => image.Length;

        public override long Position
        {
            get => _position;
            set => _position = value;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var changed = image._grown.Next;
                // Ended before the length is read: then the length is final.
                var ended = image.Sealed.IsCompleted;
                var length = image.Length;
                if (_position < length)
                {
                    var read = await RandomAccess.ReadAsync(file.SafeFileHandle, buffer[..(int)Math.Min(buffer.Length, length - _position)], _position, cancellationToken);
                    _position += read;
                    return read;
                }

                if (ended)
                {
                    // Sealed: the end of the image. Failed: the reason the stream broke, naming the VM.
                    await image.Sealed;
                    return 0;
                }

                await changed.WaitAsync(cancellationToken);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => image.Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                file.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
