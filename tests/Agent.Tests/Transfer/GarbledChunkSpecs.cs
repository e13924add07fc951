using System.IO.Hashing;
using Google.Protobuf;
using Grpc.Core;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Contracts;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>A chunk whose XxHash3 does not match its bytes was garbled on its way: refused, resent, the receive goes on.</summary>
public sealed class When_a_chunk_arrives_garbled : IAsyncLifetime
{
    private const int ChunkSize = 64 * 1024;
    private readonly RecordedLogs _logs = new();
    private readonly TransferCluster _cluster;
    private readonly Guid _operationId = Guid.NewGuid();
    private readonly GarbleOnceInterceptor.Budget _garble = new(chunk: 5);

    public When_a_chunk_arrives_garbled()
    {
        _cluster = new(logs: _logs);
    }

    public async Task InitializeAsync()
    {
        await _cluster.AddAsync("root", null, [("root-vm-0", (12 * ChunkSize) + 321), ("root-vm-1", 3 * ChunkSize)]);
        await _cluster.AddAsync("child", "root", configureGrpc: o => o.Interceptors.Add<GarbleOnceInterceptor>(_garble));
        _cluster.Announce(_operationId, ChunkSize);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Should_deliver_identical_bytes_when_the_forwarder_resends_it()
    {
        var root = _cluster["root"];
        var child = _cluster["child"];

        Assert.True(root.Engine.StartTransfer(_operationId));
        VmsReceived received;
        try
        {
            received = await _cluster.WaitForReceivedAsync(_operationId, "child", TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException e)
        {
            // Seen once in CI: the push never resumed after the garbled chunk. The agents' log says where it stopped.
            throw new TimeoutException($"{e.Message}{Environment.NewLine}The agents' log:{Environment.NewLine}{string.Join(Environment.NewLine, _logs.All)}", e);
        }

        Assert.Equal(1, _garble.Garbled);
        foreach (var image in root.Vmm.Images)
        {
            Assert.Equal(image.Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath(image.VmId)));
            Assert.Equal(image.Sha256, received.Vms.Single(v => v.VmId == image.VmId).Sha256);
        }

        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_end_the_stream_as_unavailable_and_keep_what_was_stored()
    {
        var child = _cluster["child"];
        var image = await File.ReadAllBytesAsync(_cluster["root"].Vmm.ImagePath("root-vm-0"));
        Assert.True(child.Engine.TryGetReceiver(_operationId, out var receiver));

        // The first four chunks arrive intact, the fifth garbled (by the interceptor): the stream ends, the receive goes on.
        var refusal = await Assert.ThrowsAsync<RpcException>(() => PushAsync(image, fromChunk: 0, chunks: 6));

        Assert.Equal(StatusCode.Unavailable, refusal.StatusCode);
        Assert.Contains("root-vm-0", refusal.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"offset {4 * ChunkSize}", refusal.Status.Detail, StringComparison.Ordinal);
        Assert.Null(receiver.FailureReason);
        Assert.Equal(4 * ChunkSize, receiver.BytesReceived);

        // The sender reconnects and resends from there.
        await PushAsync(image, fromChunk: 4, chunks: 2);
        Assert.Equal(6 * ChunkSize, receiver.BytesReceived);
        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_fail_the_receive_when_chunk_after_chunk_arrives_garbled()
    {
        var child = _cluster["child"];
        Assert.True(child.Engine.TryGetReceiver(_operationId, out var receiver));
        var data = new byte[ChunkSize];
        Random.Shared.NextBytes(data);
        RpcException? last = null;
        for (var attempt = 0; attempt < Receiver.MaxGarbledChunksInARow; attempt++)
        {
            last = await Assert.ThrowsAsync<RpcException>(() => PushFramesAsync(new PushFrame
            {
                Chunk = new Chunk { VmIndex = 0, Offset = 0, Data = ByteString.CopyFrom(data), Xxhash3 = XxHash3.HashToUInt64(data) + 1 },
            }));
        }

        Assert.Equal(StatusCode.DataLoss, last!.StatusCode);
        var failed = await _cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == _operationId && f.VmmId == "child");
        Assert.Equal(OperationStep.Receive, failed.Step);
        Assert.Contains("garbled chunk in a row", failed.Reason, StringComparison.Ordinal);
        Assert.NotNull(receiver.FailureReason);
        Assert.Empty(child.Vmm.Adopted);
    }

    private Task PushAsync(byte[] image, int fromChunk, int chunks) =>
        PushFramesAsync(Enumerable.Range(fromChunk, chunks).Select(i =>
        {
            var data = image.AsMemory(i * ChunkSize, ChunkSize);
            return new PushFrame
            {
                Chunk = new Chunk { VmIndex = 0, Offset = i * ChunkSize, Data = ByteString.CopyFrom(data.Span), Xxhash3 = XxHash3.HashToUInt64(data.Span) },
            };
        }).ToArray());

    /// <summary>Opens a push as the root, sends the frames, ends the stream and reads the child's answers to the end.</summary>
    private async Task PushFramesAsync(params PushFrame[] frames)
    {
        Assert.True(_cluster["child"].Engine.TryGetReceiver(_operationId, out var receiver));
        using var call = new VmTransfer.VmTransferClient(_cluster.Channel("root", "child")).Push();
        await call.RequestStream.WriteAsync(new PushFrame
        {
            Header = new PushHeader { OperationId = _operationId.ToString(), Token = receiver.Announcement.Token, SenderVmmId = "root", ReceiverVmmId = "child" },
        });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(PushReply.ReplyOneofCase.Accepted, call.ResponseStream.Current.ReplyCase);
        try
        {
            foreach (var frame in frames)
            {
                await call.RequestStream.WriteAsync(frame);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // The child ended the call first; its status is read below.
        }

        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
    }
}
