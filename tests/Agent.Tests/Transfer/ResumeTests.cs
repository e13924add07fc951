using System.IO.Hashing;
using Google.Protobuf;
using Treecast.Agent.Tests.Support;
using Treecast.Contracts;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Transfer;

public sealed class ResumeTests
{
    private const int ChunkSize = 64 * 1024;

    [Fact]
    public async Task A_broken_stream_reopened_continues_from_the_committed_offset()
    {
        await using var cluster = new TransferCluster();
        const long imageBytes = (20 * ChunkSize) + 999;
        var root = await cluster.AddAsync("root", null, [("root-vm-0", imageBytes)]);
        var child = await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        var announced = cluster.Announce(operationId, ChunkSize);
        Assert.True(child.Engine.TryGetReceiver(operationId, out var transfer));

        // A first stream delivers 8 chunks, then breaks.
        var image = await File.ReadAllBytesAsync(root.Vmm.ImagePath("root-vm-0"));
        using (var broken = new CancellationTokenSource())
        {
            var call = new VmTransfer.VmTransferClient(cluster.Channel("root", "child")).Push(cancellationToken: broken.Token);
            await call.RequestStream.WriteAsync(new PushFrame
            {
                Header = new PushHeader { OperationId = operationId.ToString(), Token = announced.Token, SenderVmmId = "root", ReceiverVmmId = "child" },
            });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            for (var i = 0; i < 8; i++)
            {
                var data = image.AsMemory(i * ChunkSize, ChunkSize);
                await call.RequestStream.WriteAsync(new PushFrame
                {
                    Chunk = new Chunk { VmIndex = 0, Offset = i * ChunkSize, Data = UnsafeByteOperations.UnsafeWrap(data), Xxhash3 = XxHash3.HashToUInt64(data.Span) },
                });
            }

            await Poll.UntilAsync(() => transfer.BytesReceived == 8 * ChunkSize, "the child stored 8 chunks");
            await broken.CancelAsync();
            call.Dispose();
        }

        // The root's forwarder reopens the stream: the child answers with what it holds and the root skips it.
        root.Engine.StartTransfer(operationId);
        await cluster.WaitForReceivedAsync(operationId, "child");

        Assert.Equal(imageBytes - (8 * ChunkSize), root.Vmm.BytesRead);
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath("root-vm-0")));
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task A_forwarder_whose_stream_resets_resumes_by_itself_and_delivers_identical_bytes()
    {
        await using var cluster = new TransferCluster();
        const long imageBytes = (30 * ChunkSize) + 5;
        var root = await cluster.AddAsync("root", null, [("root-vm-0", imageBytes), ("root-vm-1", 77_777)]);
        var child = await cluster.AddAsync(
            "child",
            "root",
            configureGrpc: o => o.Interceptors.Add<BreakOnceInterceptor>(new BreakOnceInterceptor.Budget(afterFrames: 12)));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, ChunkSize);

        root.Engine.StartTransfer(operationId);
        await cluster.WaitForReceivedAsync(operationId, "child");

        foreach (var image in root.Vmm.Images)
        {
            Assert.Equal(image.Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath(image.VmId)));
        }

        // The second stream started at the stored offset (11 chunks in) instead of resending everything.
        Assert.True(root.Vmm.BytesRead <= (2 * (imageBytes + 77_777)) - (11 * ChunkSize), $"read {root.Vmm.BytesRead} bytes");
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }
}
