using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// The transfer server's Kestrel reads its connections into <see cref="TransferBufferPool"/> blocks of 64 KiB (not its
/// own 4 KiB), and the pool hands a returned block out again, keeping no more than its cap.
/// </summary>
public sealed class When_the_transfer_server_reads_a_connection
{
    [Fact]
    public async Task Should_read_into_the_transfer_buffer_pool()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 3L * 1024 * 1024)]);
        var child = await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId);

        Assert.True(root.Engine.StartTransfer(operationId));
        await cluster.WaitForReceivedAsync(operationId, "child");

        Assert.True(child.Server.BufferBlocksRented > 0, "the child's server read its parent's push without a TransferBufferPool block: Kestrel used its own pool");
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath("root-vm-0")));
    }

    [Fact]
    public async Task Should_leave_the_now_listening_line_to_the_processs_own_host()
    {
        // A script (and an operator) finds the agent's HTTP address (health, metrics) by its host's "Now listening on:"
        // line; a second one from this server sometimes came first and named its mutual-TLS port instead.
        var logs = new RecordedLogs();
        await using var cluster = new TransferCluster(logs: logs);
        var agent = await cluster.AddAsync("root", null);

        Assert.True(agent.Server.Port > 0);
        Assert.Empty(logs.With("Now listening on"));
    }

    [Fact]
    public void Should_hand_out_64_KiB_blocks_and_reuse_a_returned_one()
    {
        using var pool = new TransferBufferPool();

        var first = pool.Rent(4096);
        var memory = first.Memory;
        first.Dispose();
        using var second = pool.Rent();

        Assert.Equal(TransferBufferPool.BlockBytes, memory.Length);
        Assert.True(second.Memory.Span == memory.Span, "a returned block was not handed out again");
    }

    [Fact]
    public void Should_keep_at_most_its_cap_of_returned_blocks()
    {
        using var pool = new TransferBufferPool();
        var rented = Enumerable.Range(0, TransferBufferPool.MaxFreeBlocks + 8).Select(_ => pool.Rent()).ToList();
        var memories = rented.Select(r => r.Memory).ToList();
        rented.ForEach(r => r.Dispose());

        var again = Enumerable.Range(0, TransferBufferPool.MaxFreeBlocks + 8).Select(_ => pool.Rent()).ToList();
        var reused = again.Count(a => memories.Any(m => a.Memory.Span == m.Span));

        Assert.Equal(TransferBufferPool.MaxFreeBlocks, reused);
    }

    [Fact]
    public void Should_refuse_a_request_larger_than_a_block()
    {
        using var pool = new TransferBufferPool();

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TransferBufferPool.BlockBytes + 1));
    }
}
