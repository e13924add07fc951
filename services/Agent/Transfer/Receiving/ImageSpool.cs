using System.Security.Cryptography;
using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>
/// One VM image of one operation as a receiver writes it: a file that grows in order, readable by
/// forwarders while it grows. Only verified chunks count towards <see cref="CommittedLength"/>. An image announced
/// unsealed (its length unknown) is bounded by <see cref="MaxBytes"/> and checked against the sender's end marker.
/// A restarted agent resumes a spool from the length it durably stored (<see cref="ResumeAsync"/>).
/// </summary>
public sealed class ImageSpool : IDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private FileStream? _writer;
    private long _committedLength;
    private readonly GrowthSignal _grown = new();
    private readonly TaskCompletionSource<VmImage> _verified = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _sha256Hex;
    private Exception? _failure;

    /// <summary>A new, empty spool.</summary>
    /// <param name="maxUnsealedBytes">The most an unsealed image may grow to before the stream is refused as a runaway.</param>
    public ImageSpool(int vmIndex, VmImage image, string path, long maxUnsealedBytes = TransferLimits.DefaultMaxUnsealedImageBytes)
        // No fsync per chunk: the receiver flushes the spools before it records how far they reach (FlushAsync).
        : this(vmIndex, image, path, maxUnsealedBytes, ImageFiles.CreateGrowing(path, Math.Max(image.Bytes, 0)))
    {
    }

    private ImageSpool(int vmIndex, VmImage image, string path, long maxUnsealedBytes, FileStream? writer)
    {
        _writer = writer;
        VmIndex = vmIndex;
        Image = image;
        Path = path;
        MaxBytes = image.IsSealed ? image.Bytes : maxUnsealedBytes;
        // A failure nobody awaits must not surface as unobserved.
        _verified.Task.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>
    /// The spool a restarted agent found: the file is cut back to <paramref name="storedBytes"/> (what was durably stored
    /// and recorded; bytes after it may be torn) and hashed again, so the stream resumes there. A file shorter than that
    /// resumes where it ends.
    /// </summary>
    public static async Task<ImageSpool> ResumeAsync(
        int vmIndex, VmImage image, string path, long storedBytes, long maxUnsealedBytes, CancellationToken cancellationToken)
    {
        var writer = ImageFiles.OpenGrowing(path);
        var spool = new ImageSpool(vmIndex, image, path, maxUnsealedBytes, writer);
        try
        {
            var length = Math.Clamp(storedBytes, 0, Math.Min(writer.Length, spool.MaxBytes));
            writer.SetLength(length);
            writer.Seek(length, SeekOrigin.Begin);
            var buffer = new byte[1024 * 1024];
            for (long offset = 0; offset < length;)
            {
                var read = await RandomAccess.ReadAsync(writer.SafeFileHandle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - offset)), offset, cancellationToken);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{path} ended at {offset} bytes while it was hashed again, {length} expected.");
                }

                spool._sha256.AppendData(buffer, 0, read);
                offset += read;
            }

            spool._committedLength = length;
            return spool;
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }

    /// <summary>A spool whose image was verified and adopted by the VMM before a restart: complete, its file gone with the adoption.</summary>
    public static ImageSpool Adopted(int vmIndex, VmImage image, string path, VmImage verified)
    {
        var spool = new ImageSpool(vmIndex, image, path, verified.Bytes, writer: null);
        spool._committedLength = verified.Bytes;
        spool._sha256Hex = verified.Sha256;
        spool._verified.TrySetResult(verified);
        return spool;
    }

    public int VmIndex { get; }

    public VmImage Image { get; }

    public string Path { get; }

    /// <summary>The announced size, or for an unsealed image the bound past which its stream is refused.</summary>
    public long MaxBytes { get; }

    /// <summary>The verified image's SHA-256 (lower-case hex), or null until it completed.</summary>
    public string? Sha256 => Volatile.Read(ref _sha256Hex);

    /// <summary>Bytes stored and checked by their chunk checksum; a resumed stream continues here.</summary>
    public long CommittedLength => Interlocked.Read(ref _committedLength);

    /// <summary>True once the whole image arrived and matched the announced SHA-256.</summary>
    public bool IsCompleted => Volatile.Read(ref _sha256Hex) is not null;

    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Appends bytes that start exactly at <see cref="CommittedLength"/> and were already checked.</summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfFailed();
            if (_writer is null || IsCompleted)
            {
                throw new InvalidOperationException($"The spool of VM {Image.VmId} is already complete.");
            }

            if (CommittedLength + data.Length > MaxBytes)
            {
                throw new InvalidDataException(Image.IsSealed
                    ? $"VM {Image.VmId}: {data.Length} bytes at offset {CommittedLength} run past the announced size {Image.Bytes}."
                    : $"VM {Image.VmId}: {data.Length} bytes at offset {CommittedLength} run past {MaxBytes} bytes, the most this agent accepts for an image announced without a size; "
                        + "raise Agent:MaxStreamedImageMiB if the VM's state really is that large.");
            }

            // Not cancellable once started: a half-written chunk would leave the file ahead of the committed length.
            await _writer.WriteAsync(data, CancellationToken.None);
            _sha256.AppendData(data.Span);
            Interlocked.Add(ref _committedLength, data.Length);
        }
        finally
        {
            _writeLock.Release();
        }

        _grown.Raise();
    }

    /// <summary>
    /// Checks the whole image against the manifest and the sender's end marker (for an unsealed manifest entry, against the
    /// end marker alone: it carries the root's size and digest). Returns why it does not match (the caller fails the
    /// operation), or null once complete; a repeated end marker is answered again.
    /// </summary>
    public async ValueTask<string?> CompleteAsync(long bytes, string sha256, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfFailed();
            var expectedBytes = Image.IsSealed ? Image.Bytes : bytes;
            var expectedSha256 = Image.IsSealed ? Image.Sha256 : sha256;
            var source = Image.IsSealed ? "the manifest" : "the sender's end marker";
            if (bytes != expectedBytes || CommittedLength != expectedBytes)
            {
                return $"VM {Image.VmId}: the image ended at {bytes} bytes (stored {CommittedLength}), {source} says {expectedBytes}";
            }

            if (_sha256Hex is null)
            {
                var digest = Convert.ToHexStringLower(_sha256.GetHashAndReset());
                if (!SameDigest(digest, expectedSha256))
                {
                    return $"VM {Image.VmId}: the received image has SHA-256 {digest}, {source} says {(expectedSha256.Length == 0 ? "nothing" : expectedSha256)}";
                }

                // Durable before the receiver records the image verified.
                _writer!.Flush(flushToDisk: true);
                await _writer.DisposeAsync();
                _writer = null;
                Volatile.Write(ref _sha256Hex, digest);
                _verified.TrySetResult(Image with { Bytes = CommittedLength, Sha256 = digest });
            }

            if (!SameDigest(sha256, _sha256Hex))
            {
                return $"VM {Image.VmId}: the sender's end marker names SHA-256 {sha256}, the verified image has {_sha256Hex}";
            }
        }
        finally
        {
            _writeLock.Release();
        }

        _grown.Raise();
        return null;
    }

    /// <summary>
    /// Makes what is committed durable (the file's bytes reach the disk) and returns how far that is: the receiver records
    /// only lengths it flushed, so a restart never resumes past bytes it lost.
    /// </summary>
    public async ValueTask<long> FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _writer?.Flush(flushToDisk: true);
            return CommittedLength;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The verified image (final size and SHA-256) once complete; faults with the spool's failure.</summary>
    public Task<VmImage> VerifiedAsync(CancellationToken cancellationToken) => _verified.Task.WaitAsync(cancellationToken);

    /// <summary>Fails the spool; readers waiting for more bytes get <paramref name="reason"/>.</summary>
    public void Fail(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null)
        {
            _verified.TrySetException(new InvalidOperationException($"The spool of VM {Image.VmId} failed: {reason.Message}", reason));
            _grown.Raise();
        }
    }

    /// <summary>
    /// Waits until more than <paramref name="offset"/> bytes are committed or the image is complete.
    /// Returns the committed length; throws the spool's failure.
    /// </summary>
    public async ValueTask<long> WaitForMoreThanAsync(long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = _grown.Next;

            ThrowIfFailed();
            var committed = CommittedLength;
            if (committed > offset || IsCompleted)
            {
                return committed;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A read handle that survives the file being moved (adopted) while it is open.</summary>
    public FileStream OpenRead() => ImageFiles.OpenFollowing(Path);

    public void Dispose()
    {
        Fail(new ObjectDisposedException(nameof(ImageSpool)));
        _writer?.Dispose();
        _writer = null;
        _sha256.Dispose();
    }

    private static bool SameDigest(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private void ThrowIfFailed()
    {
        var failure = Failure;
        if (failure is not null)
        {
            throw new InvalidOperationException($"The spool of VM {Image.VmId} failed: {failure.Message}", failure);
        }
    }

}
