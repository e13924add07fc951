using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Transfer;

/// <summary>
/// How the receiving end reads <c>VmTransfer.Push</c>: a chunk's bytes go into a pooled buffer instead of the new array
/// Google.Protobuf allocates for every <c>bytes</c> field (a chunk of 85 KB or more is a large-object allocation, so
/// every chunk received cost a share of a gen-2 collection). The receiver hands the buffer back with
/// <see cref="Release"/> once the chunk is stored. Headers, end markers and any frame encoded otherwise than a plain
/// chunk take the generated parser.
/// </summary>
public static class PushFrameMarshaller
{
    private const string ServiceName = "treecast.transfer.v1.VmTransfer";

    // Wire tags (field number << 3 | wire type) of PushFrame.chunk and of Chunk's fields.
    private const uint FrameChunkTag = (2 << 3) | 2;
    private const uint VmIndexTag = (1 << 3) | 0;
    private const uint OffsetTag = (2 << 3) | 0;
    private const uint DataTag = (3 << 3) | 2;
    private const uint XxHash3Tag = (4 << 3) | 1;

    // Chunk buffers come from a pool of their own, not ArrayPool<byte>.Shared: the shared pool caches an array per
    // thread, and a chunk rented on the thread that reads the stream is returned on whichever thread stored it, so a
    // relay's chunk arrays ended up parked one per thread-pool thread (a relay of 2 GiB to two children in 1 MiB chunks
    // peaked 6-10 MiB higher with it, bench broadcast).
    // This pool holds at most the few a receive has in flight at once; more are allocated and left to the collector.
    private static readonly ArrayPool<byte> ChunkBuffers = ArrayPool<byte>.Create(TransferLimits.MaxChunkSizeBytes, maxArraysPerBucket: 8);

    /// <summary>The push method as the server binds it: chunk frames read into pooled buffers, replies as generated.</summary>
    public static Method<PushFrame, PushReply> Push { get; } = new(
        MethodType.DuplexStreaming,
        ServiceName,
        "Push",
        Marshallers.Create<PushFrame>(Serialize, Deserialize),
        Marshallers.Create<PushReply>(Serialize, context => PushReply.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    /// <summary>The connect method as the server binds it, as generated (bound here because the service binds its methods itself).</summary>
    public static Method<ConnectRequest, ConnectReply> Connect { get; } = new(
        MethodType.Unary,
        ServiceName,
        "Connect",
        Marshallers.Create<ConnectRequest>(Serialize, context => ConnectRequest.Parser.ParseFrom(context.PayloadAsReadOnlySequence())),
        Marshallers.Create<ConnectReply>(Serialize, context => ConnectReply.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    /// <summary>Returns a chunk's pooled buffer, if it has one; its bytes must not be used afterwards.</summary>
    public static void Release(Chunk chunk)
    {
        if (MemoryMarshal.TryGetMemoryManager(chunk.Data.Memory, out PooledChunkData? pooled))
        {
            pooled.Return();
        }
    }

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IBufferMessage, IMessage
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }

    private static PushFrame Deserialize(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        return TryReadChunk(payload) is { } chunk ? new PushFrame { Chunk = chunk } : PushFrame.Parser.ParseFrom(payload);
    }

    /// <summary>The frame as a chunk whose data is pooled, or null when the frame is anything else (or encoded unusually).</summary>
    private static Chunk? TryReadChunk(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!TryReadVarint(ref reader, out var tag) || tag != FrameChunkTag || !TryReadVarint(ref reader, out var length)
            || length != (ulong)reader.Remaining)
        {
            return null;
        }

        var chunk = new Chunk();
        long dataStart = -1;
        var dataLength = 0;
        while (!reader.End)
        {
            if (!TryReadVarint(ref reader, out tag))
            {
                return null;
            }

            switch (tag)
            {
                case VmIndexTag when TryReadVarint(ref reader, out var vmIndex):
                    chunk.VmIndex = (uint)vmIndex;
                    break;
                case OffsetTag when TryReadVarint(ref reader, out var offset):
                    chunk.Offset = (long)offset;
                    break;
                case XxHash3Tag when reader.TryReadLittleEndian(out long hash):
                    chunk.Xxhash3 = (ulong)hash;
                    break;
                case DataTag when dataStart < 0 && TryReadVarint(ref reader, out length) && length <= (ulong)reader.Remaining:
                    dataStart = reader.Consumed;
                    dataLength = (int)length;
                    reader.Advance(dataLength);
                    break;
                default:
                    return null;
            }
        }

        if (dataLength > 0)
        {
            chunk.Data = UnsafeByteOperations.UnsafeWrap(PooledChunkData.CopyOf(payload.Slice(dataStart, dataLength)));
        }

        return chunk;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A chunk's bytes in an array rented from the shared pool, returned once.</summary>
    private sealed class PooledChunkData : MemoryManager<byte>
    {
        private readonly int _length;
        private byte[]? _array;

        private PooledChunkData(byte[] array, int length)
        {
            _array = array;
            _length = length;
        }

        public static ReadOnlyMemory<byte> CopyOf(ReadOnlySequence<byte> data)
        {
            var array = ChunkBuffers.Rent((int)data.Length);
            data.CopyTo(array);
            return new PooledChunkData(array, (int)data.Length).Memory;
        }

        public void Return()
        {
            if (Interlocked.Exchange(ref _array, null) is { } array)
            {
                ChunkBuffers.Return(array);
            }
        }

        public override Span<byte> GetSpan() => Array().AsSpan(0, _length);

        public override MemoryHandle Pin(int elementIndex = 0) =>
            throw new NotSupportedException("Chunk data is read as a span, never pinned.");

        public override void Unpin()
        {
        }

        protected override bool TryGetArray(out ArraySegment<byte> segment)
        {
            segment = new ArraySegment<byte>(Array(), 0, _length);
            return true;
        }

        protected override void Dispose(bool disposing) => Return();

        private byte[] Array() => _array ?? throw new ObjectDisposedException(nameof(PooledChunkData), "The chunk's buffer was already returned.");
    }
}
