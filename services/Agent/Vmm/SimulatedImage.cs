using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Treecast.Agent.Vmm;

/// <summary>
/// The on-disk format of a simulated VM image: a 4 KiB header, then content that depends only on the VM id,
/// so that every process produces the same bytes for the same VM and a copy can be checked byte for byte.
/// </summary>
/// <remarks>
/// Header, little-endian: magic "TCVM" (0), format version (4, uint32), workload progress (8, int64),
/// workload target (16, int64), VM id length (24, uint16), workload id length (26, uint16, 0 = none),
/// VM id UTF-8 (32), workload id UTF-8 (1056); the rest is zero.
/// </remarks>
internal static class SimulatedImage
{
    public const int HeaderBytes = 4096;

    // Images are written and read in blocks this size so that no image is ever held whole in memory.
    public const int BlockBytes = 1 << 20;

    private const uint FormatVersion = 1;
    private const int MaxIdBytes = 1024;
    private const int VmIdOffset = 32;
    private const int WorkloadIdOffset = VmIdOffset + MaxIdBytes;
    private static ReadOnlySpan<byte> Magic => "TCVM"u8;

    /// <summary>Writes a new image of <paramref name="bytes"/> bytes for the VM, replacing any file at the path.</summary>
    public static void Create(string path, string vmId, long bytes)
    {
        if (bytes < HeaderBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(bytes), bytes, $"A simulated VM image holds at least its {HeaderBytes}-byte header; ask for {HeaderBytes} bytes or more.");
        }

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.SequentialScan);
        file.SetLength(bytes);
        file.Write(EncodeHeader(new SimulatedImageHeader(vmId, null, 0, 0)));

        var buffer = new byte[(int)Math.Min(BlockBytes, bytes - HeaderBytes + 7) & ~7];
        var state = SeedFor(vmId);
        for (var remaining = bytes - HeaderBytes; remaining > 0;)
        {
            var count = (int)Math.Min(buffer.Length, remaining);

            // Whole 8-byte words are generated even for a short last block, so the stream does not depend
            // on where blocks end.
            Fill(buffer.AsSpan(0, (count + 7) & ~7), ref state);
            file.Write(buffer, 0, count);
            remaining -= count;
        }
    }

    public static async Task<SimulatedImageHeader> ReadHeaderAsync(string path, CancellationToken cancellationToken)
    {
        var buffer = new byte[HeaderBytes];
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
        var read = await file.ReadAtLeastAsync(buffer, HeaderBytes, throwOnEndOfStream: false, cancellationToken);
        if (read < HeaderBytes)
        {
            throw new InvalidDataException($"{path} is {read} bytes long, shorter than a simulated VM image header ({HeaderBytes} bytes).");
        }

        return DecodeHeader(buffer, path);
    }

    /// <summary>Rewrites the header in place; the content after it is left as it is.</summary>
    public static async Task WriteHeaderAsync(string path, SimulatedImageHeader header, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0, useAsync: true);
        await file.WriteAsync(EncodeHeader(header), cancellationToken);
    }

    public static byte[] EncodeHeader(SimulatedImageHeader header)
    {
        var buffer = new byte[HeaderBytes];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], header.WorkloadProgress);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], header.WorkloadTarget);
        var vmIdLength = WriteId(span.Slice(VmIdOffset, MaxIdBytes), header.VmId, "VM id");
        var workloadIdLength = WriteId(span.Slice(WorkloadIdOffset, MaxIdBytes), header.WorkloadId ?? string.Empty, "workload id");
        BinaryPrimitives.WriteUInt16LittleEndian(span[24..], (ushort)vmIdLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], (ushort)workloadIdLength);
        return buffer;
    }

    public static SimulatedImageHeader DecodeHeader(ReadOnlySpan<byte> span, string source)
    {
        if (!span[..4].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source} is not a simulated VM image: it does not start with \"TCVM\".");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"{source} is a simulated VM image of format {version}; this agent reads format {FormatVersion}.");
        }

        var vmIdLength = BinaryPrimitives.ReadUInt16LittleEndian(span[24..]);
        var workloadIdLength = BinaryPrimitives.ReadUInt16LittleEndian(span[26..]);
        if (vmIdLength is 0 or > MaxIdBytes || workloadIdLength > MaxIdBytes)
        {
            throw new InvalidDataException($"{source} has a corrupt simulated VM image header (id lengths {vmIdLength} and {workloadIdLength}).");
        }

        return new SimulatedImageHeader(
            Encoding.UTF8.GetString(span.Slice(VmIdOffset, vmIdLength)),
            workloadIdLength == 0 ? null : Encoding.UTF8.GetString(span.Slice(WorkloadIdOffset, workloadIdLength)),
            BinaryPrimitives.ReadInt64LittleEndian(span[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[16..]));
    }

    /// <summary>
    /// A hash of the VM id that is the same in every process and on every machine
    /// (<see cref="string.GetHashCode()"/> is randomized per process): FNV-1a over UTF-8, then a SplitMix64 finish.
    /// </summary>
    public static ulong StableHash(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }

    private static ulong SeedFor(string vmId)
    {
        var seed = StableHash(vmId);

        // Xorshift never leaves zero, so zero cannot be a seed.
        return seed == 0 ? 0x9E3779B97F4A7C15UL : seed;
    }

    private static void Fill(Span<byte> block, ref ulong state)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(block);
        var x = state;
        for (var i = 0; i < words.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;

            // The image is defined little-endian, whatever the machine.
            words[i] = BitConverter.IsLittleEndian ? x : BinaryPrimitives.ReverseEndianness(x);
        }

        state = x;
    }

    private static int WriteId(Span<byte> destination, string id, string what)
    {
        if (Encoding.UTF8.GetByteCount(id) > MaxIdBytes)
        {
            throw new ArgumentException($"The {what} \"{id}\" is longer than {MaxIdBytes} UTF-8 bytes, which a simulated VM image header cannot hold.");
        }

        return Encoding.UTF8.GetBytes(id, destination);
    }
}
