using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Treecast.Contracts;

namespace Treecast.Agent.Images;

/// <summary>
/// A VM image file written in order by one writer and hashed (SHA-256) as it grows, read by followers while it grows (each
/// by position, on a handle of its own), then sealed (size and digest final) or failed (followers get the reason). A VMM's
/// save still being written (<see cref="Vmm.SavingImage"/>) and a receiver's spool
/// (<see cref="Transfer.Receiving.ImageSpool"/>) are thin layers over it.
/// </summary>
public sealed class GrowingImageFile : IDisposable
{
    // Re-hashing a resumed file reads it in blocks this size.
    private const int RehashBlockBytes = 1024 * 1024;

    private readonly VmImage _image;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly GrowthSignal _grown = new();
    private readonly TaskCompletionSource<VmImage> _sealed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FileStream? _writer;
    private string _path;
    private long _length;
    private VmImage? _sealedImage;
    private Exception? _failure;

    private GrowingImageFile(VmImage image, string path, FileStream? writer)
    {
        _image = image;
        _path = path;
        _writer = writer;
        // Whoever asks observes the outcome; a failure nobody awaits must not surface as unobserved.
        _sealed.Task.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>The file's path; a file sealed to another path (<see cref="SealAsync"/>) is there from then on.</summary>
    public string Path => Volatile.Read(ref _path);

    /// <summary>Bytes written so far; followers never read past this.</summary>
    public long Length => Interlocked.Read(ref _length);

    /// <summary>The image with its final size and SHA-256 once sealed; null until then.</summary>
    public VmImage? SealedImage => Volatile.Read(ref _sealedImage);

    public bool IsSealed => SealedImage is not null;

    /// <summary>Why the file failed (the first reason given), or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Completes with <see cref="SealedImage"/>; faults with the reason when the file failed before it was sealed.</summary>
    public Task<VmImage> Sealed => _sealed.Task;

    /// <summary>A new, empty file at <paramref name="path"/> (replacing one there) holding <paramref name="image"/>, as announced.</summary>
    /// <param name="preallocationBytes">Space reserved up front, when the final size is known.</param>
    public static GrowingImageFile Create(VmImage image, string path, long preallocationBytes = 0) =>
        new(image, path, ImageFiles.CreateGrowing(path, preallocationBytes));

    /// <summary>
    /// The file an earlier run wrote at <paramref name="path"/>, cut back to <paramref name="length"/> bytes (bytes after
    /// what was durably stored may be torn) and hashed again, to be written on from there. A file shorter than that
    /// resumes where it ends; a missing one is created empty.
    /// </summary>
    public static async Task<GrowingImageFile> ResumeAsync(VmImage image, string path, long length, CancellationToken cancellationToken)
    {
        var writer = ImageFiles.OpenGrowing(path);
        var file = new GrowingImageFile(image, path, writer);
        try
        {
            length = Math.Clamp(length, 0, writer.Length);
            writer.SetLength(length);
            writer.Seek(length, SeekOrigin.Begin);
            var buffer = new byte[RehashBlockBytes];
            for (long offset = 0; offset < length;)
            {
                var read = await RandomAccess.ReadAsync(writer.SafeFileHandle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - offset)), offset, cancellationToken);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{path} ended at {offset} bytes while it was hashed again, {length} expected.");
                }

                file._sha256.AppendData(buffer, 0, read);
                offset += read;
            }

            file._length = length;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A file sealed in an earlier run as <paramref name="sealedImage"/>, not to be written again.</summary>
    public static GrowingImageFile SealedBefore(VmImage sealedImage, string path)
    {
        var file = new GrowingImageFile(sealedImage, path, writer: null) { _length = sealedImage.Bytes, _sealedImage = sealedImage };
        file._sealed.TrySetResult(sealedImage);
        return file;
    }

    /// <summary>Appends the next bytes (one writer, in order): written, hashed, counted, then followers are woken.</summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException($"The image of VM {_image.VmId} is no longer being written.");
        await writer.WriteAsync(data, cancellationToken);
        _sha256.AppendData(data.Span);
        Interlocked.Add(ref _length, data.Length);
        _grown.Raise();
    }

    /// <summary>The SHA-256 (lower-case hex) of the bytes appended so far; the file goes on growing.</summary>
    public string HashSoFar() => Convert.ToHexStringLower(_sha256.GetCurrentHash());

    /// <summary>Makes the bytes appended so far durable (they reach the disk).</summary>
    public void Flush()
    {
        try
        {
            _writer?.Flush(flushToDisk: true);
        }
        catch (ObjectDisposedException)
        {
            // Sealed meanwhile (durable by itself) or closed: there is nothing left to flush.
        }
    }

    /// <summary>
    /// The file is complete: closes it (durable first when <paramref name="durable"/>), moves it to
    /// <paramref name="moveTo"/> when given (followers' handles read on), and announces its size and digest.
    /// </summary>
    public async Task<VmImage> SealAsync(bool durable, string? moveTo = null)
    {
        if (_writer is { } writer)
        {
            _writer = null;
            if (durable)
            {
                writer.Flush(flushToDisk: true);
            }

            await writer.DisposeAsync();
        }

        var image = _image with { Bytes = Length, Sha256 = Convert.ToHexStringLower(_sha256.GetHashAndReset()) };
        if (moveTo is not null)
        {
            File.Move(Path, moveTo, overwrite: true);
            Volatile.Write(ref _path, moveTo);
        }

        Volatile.Write(ref _sealedImage, image);
        _sealed.TrySetResult(image);
        _grown.Raise();
        return image;
    }

    /// <summary>
    /// The file failed: from now on followers get <paramref name="reason"/> (the first reason given wins), and so does
    /// <see cref="Sealed"/> when the file was not sealed yet.
    /// </summary>
    public void Fail(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null)
        {
            _sealed.TrySetException(reason);
            _grown.Raise();
        }
    }

    /// <summary>Throws <see cref="Failure"/>, if there is one.</summary>
    public void ThrowIfFailed()
    {
        if (Failure is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>
    /// Waits until more than <paramref name="offset"/> bytes are written or the file is sealed, and returns its length then
    /// (final once sealed). Throws <see cref="Failure"/>.
    /// </summary>
    public async ValueTask<long> WaitForMoreThanAsync(long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Taken before the look, so a write that lands between the look and the wait still wakes this reader.
            var changed = _grown.Next;
            ThrowIfFailed();

            // Sealed before the length is read: then the length is final.
            var isSealed = IsSealed;
            var length = Length;
            if (length > offset || isSealed)
            {
                return length;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Reads bytes at <paramref name="offset"/> through the reader's own <paramref name="handle"/> (<see cref="OpenRead"/>),
    /// waiting until some are written; 0 at the end of the sealed file. Throws <see cref="Failure"/>.
    /// </summary>
    public async ValueTask<int> ReadAsync(SafeFileHandle handle, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var length = await WaitForMoreThanAsync(offset, cancellationToken);
        var available = (int)Math.Min(buffer.Length, length - offset);
        return available <= 0 ? 0 : await RandomAccess.ReadAsync(handle, buffer[..available], offset, cancellationToken);
    }

    /// <summary>A read handle that keeps reading the same file when it is moved (sealed to another path, or adopted by a VMM).</summary>
    public FileStream OpenRead()
    {
        var path = Path;
        try
        {
            return ImageFiles.OpenFollowing(path);
        }
        catch (FileNotFoundException) when (!string.Equals(Path, path, StringComparison.Ordinal))
        {
            // Sealed (and moved) between the look at the path and this open.
            return ImageFiles.OpenFollowing(Path);
        }
        catch (FileNotFoundException) when (Failure is not null)
        {
            // Failed (and its file gone) before this reader opened it: the reader gets the reason.
            ThrowIfFailed();
            throw;
        }
    }

    /// <summary>A stream that reads the file from the start, waits while it grows, ends where the sealed file ends, and throws its failure.</summary>
    public Stream OpenFollower() => new Follower(this, OpenRead());

    /// <summary>Closes the writer (a file not sealed stays as far as it was written) and releases the hash.</summary>
    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
        _sha256.Dispose();
    }

    /// <summary>Reads by position, so several followers (one per child) share nothing but the file.</summary>
    private sealed class Follower(GrowingImageFile image, FileStream file) : Stream
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
            var read = await image.ReadAsync(file.SafeFileHandle, _position, buffer, cancellationToken);
            _position += read;
            return read;
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
