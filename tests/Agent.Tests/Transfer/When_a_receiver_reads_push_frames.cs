using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Treecast.Agent.Transfer;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>The receiving end reads chunk bytes into pooled buffers; every frame must still read as the sender wrote it.</summary>
public sealed class When_a_receiver_reads_push_frames
{
    private static PushFrame Read(byte[] payload) => PushFrameMarshaller.Push.RequestMarshaller.ContextualDeserializer(new Payload(payload));

    [Fact]
    public void Should_read_a_chunk_with_the_bytes_offset_and_checksum_sent()
    {
        var data = new byte[300_000];
        Random.Shared.NextBytes(data);
        var sent = new PushFrame { Chunk = new Chunk { VmIndex = 3, Offset = 5L << 32, Data = ByteString.CopyFrom(data), Xxhash3 = ulong.MaxValue - 7 } };

        var read = Read(sent.ToByteArray());

        Assert.Equal(sent, read);
        PushFrameMarshaller.Release(read.Chunk);
    }

    [Fact]
    public void Should_read_headers_end_markers_and_empty_chunks_as_sent()
    {
        PushFrame[] frames =
        [
            new() { Header = new PushHeader { OperationId = Guid.NewGuid().ToString(), Token = "t", SenderVmmId = "a", ReceiverVmmId = "b" } },
            new() { VmEnd = new VmEnd { VmIndex = 1, Bytes = 42, Sha256 = new string('a', 64) } },
            new() { Chunk = new Chunk { VmIndex = 0, Offset = 0 } },
        ];

        Assert.All(frames, sent => Assert.Equal(sent, Read(sent.ToByteArray())));
    }

    [Fact]
    public void Should_read_a_chunk_whose_fields_come_in_another_order_or_twice()
    {
        var first = new PushFrame { Chunk = new Chunk { VmIndex = 1, Data = ByteString.CopyFromUtf8("old") } };
        var second = new PushFrame { Chunk = new Chunk { Offset = 9, Data = ByteString.CopyFromUtf8("new"), Xxhash3 = 5 } };

        // Protobuf merges a repeated message field: the generated parser's reading is the reference.
        var bytes = first.ToByteArray().Concat(second.ToByteArray()).ToArray();

        Assert.Equal(PushFrame.Parser.ParseFrom(bytes), Read(bytes));
    }

    /// <summary>A received message as gRPC hands it to the marshaller.</summary>
    private sealed class Payload(byte[] bytes) : DeserializationContext
    {
        public override int PayloadLength => bytes.Length;

        public override byte[] PayloadAsNewBuffer() => bytes.ToArray();

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(bytes);
    }
}
