using Microsoft.Win32.SafeHandles;
using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>
/// One VM image of one operation as a receiver writes it, a <see cref="GrowingImageFile"/> readable by forwarders while it
/// grows. Only verified chunks count towards <see cref="CommittedLength"/>. An image announced unsealed (its length
/// unknown) is bounded by <see cref="MaxBytes"/> and checked against the sender's end marker. A restarted agent resumes a
/// spool from the length it durably stored (<see cref="ResumeAsync"/>).
/// </summary>
public sealed class ImageSpool : IDisposable
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly GrowingImageFile _file;

    /// <summary>A new, empty spool.</summary>
    /// <param name="maxUnsealedBytes">The most an unsealed image may grow to before the stream is refused as a runaway.</param>
    public ImageSpool(int vmIndex, VmImage image, string path, long maxUnsealedBytes = TransferLimits.DefaultMaxUnsealedImageBytes)
        // No fsync per chunk: the receiver flushes the spools before it records how far they reach (FlushAsync).
        : this(vmIndex, image, path, maxUnsealedBytes, GrowingImageFile.Create(image, path, Math.Max(image.Bytes, 0)))
    {
    }

    private ImageSpool(int vmIndex, VmImage image, string path, long maxUnsealedBytes, GrowingImageFile file)
    {
        _file = file;
        VmIndex = vmIndex;
        Image = image;
        Path = path;
        MaxBytes = MaxBytesOf(image, maxUnsealedBytes);
    }

    /// <summary>
    /// The spool a restarted agent found: the file is cut back to <paramref name="storedBytes"/> (what was durably stored
    /// and recorded; bytes after it may be torn) and hashed again, so the stream resumes there. A file shorter than that
    /// resumes where it ends.
    /// </summary>
    public static async Task<ImageSpool> ResumeAsync(
        int vmIndex, VmImage image, string path, long storedBytes, long maxUnsealedBytes, CancellationToken cancellationToken)
    {
        var file = await GrowingImageFile.ResumeAsync(image, path, Math.Min(storedBytes, MaxBytesOf(image, maxUnsealedBytes)), cancellationToken);
        return new ImageSpool(vmIndex, image, path, maxUnsealedBytes, file);
    }

    /// <summary>A spool whose image was verified and adopted by the VMM before a restart: complete, its file gone with the adoption.</summary>
    public static ImageSpool Adopted(int vmIndex, VmImage image, string path, VmImage verified) =>
        new(vmIndex, image, path, verified.Bytes, GrowingImageFile.SealedBefore(verified, path));

    public int VmIndex { get; }

    public VmImage Image { get; }

    public string Path { get; }

    /// <summary>The announced size, or for an unsealed image the bound past which its stream is refused.</summary>
    public long MaxBytes { get; }

    /// <summary>The verified image's SHA-256 (lower-case hex), or null until it completed.</summary>
    public string? Sha256 => _file.SealedImage?.Sha256;

    /// <summary>Bytes stored and checked by their chunk checksum; a resumed stream continues here.</summary>
    public long CommittedLength => _file.Length;

    /// <summary>True once the whole image arrived and matched the announced SHA-256.</summary>
    public bool IsCompleted => _file.IsSealed;

    /// <summary>Appends bytes that start exactly at <see cref="CommittedLength"/> and were already checked.</summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _file.ThrowIfFailed();
            if (IsCompleted)
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
            await _file.AppendAsync(data, CancellationToken.None);
        }
        finally
        {
            _writeLock.Release();
        }
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
            _file.ThrowIfFailed();
            var expectedBytes = Image.IsSealed ? Image.Bytes : bytes;
            var expectedSha256 = Image.IsSealed ? Image.Sha256 : sha256;
            var source = Image.IsSealed ? "the manifest" : "the sender's end marker";
            if (bytes != expectedBytes || CommittedLength != expectedBytes)
            {
                return $"VM {Image.VmId}: the image ended at {bytes} bytes (stored {CommittedLength}), {source} says {expectedBytes}";
            }

            if (!IsCompleted)
            {
                var digest = _file.HashSoFar();
                if (!SameDigest(digest, expectedSha256))
                {
                    return $"VM {Image.VmId}: the received image has SHA-256 {digest}, {source} says {(expectedSha256.Length == 0 ? "nothing" : expectedSha256)}";
                }

                // Durable before the receiver records the image verified.
                await _file.SealAsync(durable: true);
            }

            if (!SameDigest(sha256, Sha256!))
            {
                return $"VM {Image.VmId}: the sender's end marker names SHA-256 {sha256}, the verified image has {Sha256}";
            }
        }
        finally
        {
            _writeLock.Release();
        }

        return null;
    }

    /// <summary>
    /// Makes what is committed durable (the file's bytes reach the disk) and returns how far that is: the receiver records
    /// only lengths it flushed, so a restart never resumes past bytes it lost.
    /// </summary>
    public ValueTask<long> FlushAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // Taken before the fsync and without the write lock: appends go on meanwhile, and an fsync makes durable at least
        // every byte written before it started (a committed length counts only bytes whose write returned).
        var length = CommittedLength;
        _file.Flush();
        return ValueTask.FromResult(length);
    }

    /// <summary>The verified image (final size and SHA-256) once complete; faults with the spool's failure.</summary>
    public Task<VmImage> VerifiedAsync(CancellationToken cancellationToken) => _file.Sealed.WaitAsync(cancellationToken);

    /// <summary>Fails the spool; readers waiting for more bytes get <paramref name="reason"/>.</summary>
    public void Fail(Exception reason) =>
        _file.Fail(new InvalidOperationException($"The spool of VM {Image.VmId} failed: {reason.Message}", reason));

    /// <summary>
    /// Reads committed bytes at <paramref name="offset"/> through a forwarder's own <paramref name="handle"/>
    /// (<see cref="OpenRead"/>), waiting until some are; 0 once the image is complete and read to its end. Throws the
    /// spool's failure.
    /// </summary>
    public ValueTask<int> ReadAsync(SafeFileHandle handle, long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        _file.ReadAsync(handle, offset, buffer, cancellationToken);

    /// <summary>A read handle that survives the file being moved (adopted) while it is open.</summary>
    public FileStream OpenRead() => _file.OpenRead();

    public void Dispose()
    {
        Fail(new ObjectDisposedException(nameof(ImageSpool)));
        _file.Dispose();
    }

    private static long MaxBytesOf(VmImage image, long maxUnsealedBytes) => image.IsSealed ? image.Bytes : maxUnsealedBytes;

    private static bool SameDigest(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
