using System.IO.Hashing;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Treecast.Agent.Tests.Support;
using Treecast.Contracts;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>Images announced before their stream ended (a QEMU migration still being written): no size, no digest yet.</summary>
public sealed class UnsealedImageTests
{
    private const string VmId = "root-vm-0";

    [Fact]
    public async Task Every_receiver_ends_with_the_roots_stream_when_it_grows_while_relayed()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null);
        await cluster.AddAsync("child", "root");
        await cluster.AddAsync("sibling", "root");
        var grandchild = await cluster.AddAsync("grandchild", "child");
        var growing = root.Vmm.Grow(VmId);
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, 64 * 1024, [VmImage.Unsealed(VmId)]);
        Assert.True(grandchild.Engine.TryGetReceiver(operationId, out var atGrandchild));

        Assert.True(root.Engine.StartTransfer(operationId));
        var random = new Random(42);
        var written = new MemoryStream();
        // Uneven pieces, the way a migration stream arrives; the grandchild gets bytes before the stream has ended.
        for (var piece = 0; piece < 40; piece++)
        {
            var data = new byte[random.Next(1, 200_000)];
            random.NextBytes(data);
            await growing.WriteAsync(data, CancellationToken.None);
            written.Write(data);
            if (piece == 20)
            {
                await Poll.UntilAsync(() => atGrandchild.BytesReceived > 0, "the grandchild holds bytes of the growing image");
            }
        }

        Assert.False(atGrandchild.Received.IsCompleted, "the grandchild finished before the root's stream ended");
        var sealedImage = await growing.SealAsync();

        Assert.Equal(written.Length, sealedImage.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(written.ToArray())), sealedImage.Sha256);
        foreach (var vmmId in new[] { "child", "sibling", "grandchild" })
        {
            var received = await cluster.WaitForReceivedAsync(operationId, vmmId);
            var copy = Assert.Single(received.Vms);
            Assert.Equal(sealedImage.Sha256, copy.Sha256);
            var path = cluster[vmmId].Vmm.ImagePath(VmId);
            Assert.Equal(written.ToArray(), await File.ReadAllBytesAsync(path));
            Assert.Equal(sealedImage.Sha256, FileVmm.Sha256Of(path));
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
        await root.Engine.ForwardingCompletion(operationId);
    }

    [Fact]
    public async Task A_root_stream_that_breaks_fails_the_push_with_its_reason_and_nothing_is_adopted()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null);
        var child = await cluster.AddAsync("child", "root");
        var growing = root.Vmm.Grow(VmId);
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, 64 * 1024, [VmImage.Unsealed(VmId)]);

        root.Engine.StartTransfer(operationId);
        await growing.WriteAsync(RandomNumberGenerator.GetBytes(100_000), CancellationToken.None);
        await growing.FailAsync(new IOException($"VM {VmId} on root: saving its state failed after 100000 bytes: QEMU was killed by signal 9"));

        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId && f.Step == OperationStep.Relay);
        Assert.Equal("child", failed.VmmId);
        Assert.Contains($"VM {VmId} on root: saving its state failed", failed.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<IOException>(() => root.Vmm.SealedImageAsync(VmId, CancellationToken.None));
        Assert.Empty(child.Vmm.Adopted);
        Assert.Empty(cluster.Events.All<VmsReceived>());
    }

    [Fact]
    public async Task An_end_marker_whose_digest_does_not_match_the_bytes_is_data_loss()
    {
        await using var cluster = new TransferCluster();
        await cluster.AddAsync("root", null);
        var child = await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        var announced = cluster.Announce(operationId, 64 * 1024, [VmImage.Unsealed(VmId)]);
        var data = RandomNumberGenerator.GetBytes(100_000);
        var wrongDigest = Convert.ToHexStringLower(SHA256.HashData(data.AsSpan(1)));

        var client = new VmTransfer.VmTransferClient(cluster.Channel("root", "child"));
        using var call = client.Push();
        await call.RequestStream.WriteAsync(new PushFrame
        {
            Header = new PushHeader { OperationId = operationId.ToString(), Token = announced.Token, SenderVmmId = "root", ReceiverVmmId = "child" },
        });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(PushReply.ReplyOneofCase.Accepted, call.ResponseStream.Current.ReplyCase);
        await call.RequestStream.WriteAsync(new PushFrame
        {
            Chunk = new Chunk { VmIndex = 0, Offset = 0, Data = ByteString.CopyFrom(data), Xxhash3 = XxHash3.HashToUInt64(data) },
        });
        await call.RequestStream.WriteAsync(new PushFrame { VmEnd = new VmEnd { VmIndex = 0, Bytes = data.Length, Sha256 = wrongDigest } });

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.DataLoss, refused.StatusCode);
        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId && f.VmmId == "child");
        Assert.Equal(OperationStep.Receive, failed.Step);
        Assert.Contains(wrongDigest, failed.Reason, StringComparison.Ordinal);
        Assert.Contains("the sender's end marker", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(child.Vmm.Adopted);
    }

    [Fact]
    public async Task A_stream_past_the_receivers_bound_is_refused_as_a_runaway()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null);
        var child = await cluster.AddAsync("child", "root", maxUnsealedImageBytes: 256 * 1024);
        var growing = root.Vmm.Grow(VmId);
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, 64 * 1024, [VmImage.Unsealed(VmId)]);

        root.Engine.StartTransfer(operationId);
        // The root's stream never ends: the receiver's bound is what stops it.
        for (var piece = 0; piece < 8; piece++)
        {
            await growing.WriteAsync(RandomNumberGenerator.GetBytes(64 * 1024), CancellationToken.None);
        }

        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId && f.VmmId == "child" && f.Step == OperationStep.Receive);
        Assert.Contains("262144 bytes", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("Agent:MaxStreamedImageMiB", failed.Reason, StringComparison.Ordinal);
        Assert.True(child.Engine.TryGetReceiver(operationId, out var atChild));
        Assert.True(atChild.BytesReceived <= 256 * 1024);
        await root.Engine.ForwardingCompletion(operationId).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(child.Vmm.Adopted);
    }
}
