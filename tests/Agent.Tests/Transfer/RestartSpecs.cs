using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Contracts;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A receiving agent stops mid-receive and starts again on the same work directory: it reloads the receive, binds the
/// same port, and its parent's retrying forwarder resumes where the recorded offset says.
/// </summary>
public sealed class When_a_receiving_agent_restarts_mid_receive(ITestOutputHelper output) : IAsyncLifetime
{
    private const int ChunkSize = 64 * 1024;
    private const long ImageBytes = 96L * ChunkSize;
    private readonly TransferCluster _cluster = new();
    private readonly Guid _operationId = Guid.NewGuid();
    private TestAgent _root = null!;

    public async Task InitializeAsync()
    {
        _root = await _cluster.AddAsync("root", null, [("root-vm-0", ImageBytes)]);
        await _cluster.AddAsync("child", "root");

        // The root reads slowly: the child holds part of the image for a while.
        _root.Vmm.WrapImage = s => new CountingStream(s, _ => { }, TimeSpan.FromMilliseconds(20));
        _cluster.Announce(_operationId, ChunkSize);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Should_resume_from_the_recorded_offset_and_verify()
    {
        var endpoint = _cluster["child"].Endpoint;
        await ReceiveThenStopAsync(ImageBytes / 3);
        var sentBeforeRestart = _root.Engine.BytesSentTo(_operationId, "child");
        var recorded = RecordedOffset();
        Assert.True(recorded >= ImageBytes / 3, $"recorded {recorded} bytes");

        var child = await _cluster.RestartAsync("child");

        Assert.Equal(endpoint, child.Endpoint);
        var resumed = await _cluster.Events.WaitForAsync<ReceiveResumed>(r => r.OperationId == _operationId && r.VmmId == "child");
        Assert.Equal(recorded, resumed.BytesHeld);
        await _cluster.WaitForReceivedAsync(_operationId, "child", TimeSpan.FromMinutes(2));
        Assert.Equal(_root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath("root-vm-0")));
        var sentAfterRestart = _root.Engine.BytesSentTo(_operationId, "child") - sentBeforeRestart;
        output.WriteLine($"recorded {recorded} of {ImageBytes} bytes at the stop; the root sent {sentAfterRestart} bytes after the restart");
        Assert.True(sentAfterRestart <= ImageBytes - recorded + (2 * ChunkSize), $"the root sent {sentAfterRestart} bytes after the restart; {ImageBytes - recorded} were missing");
        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_cut_back_bytes_written_after_the_recorded_offset_and_verify()
    {
        var spool = (await ReceiveThenStopAsync(ImageBytes / 4)).Spools[0].Path;

        // Bytes past the recorded offset, as a crash mid-write leaves them: torn, never recorded.
        await using (var torn = new FileStream(spool, FileMode.Open, FileAccess.Write))
        {
            torn.Seek(RecordedOffset(), SeekOrigin.Begin);
            await torn.WriteAsync(Enumerable.Repeat((byte)0xee, 3 * ChunkSize).ToArray());
        }

        var child = await _cluster.RestartAsync("child");

        await _cluster.WaitForReceivedAsync(_operationId, "child", TimeSpan.FromMinutes(2));
        Assert.Equal(_root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath("root-vm-0")));
        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_delete_a_receive_idle_longer_than_the_abandoned_receive_period()
    {
        Assert.True(_cluster["child"].Engine.TryGetReceiver(_operationId, out var before));
        var receives = Path.GetDirectoryName(before.Directory)!;
        await _cluster.StopAsync("child");

        // What a crash leaves besides: a directory without a record, a half-written temporary file.
        Directory.CreateDirectory(Path.Combine(receives, Guid.NewGuid().ToString("N")));
        await File.WriteAllTextAsync(Path.Combine(before.Directory, "offsets.json.tmp"), "{\"offs");

        var child = await _cluster.RestartAsync("child", tune: s => s with { AbandonedReceiveAfter = TimeSpan.FromTicks(1) });

        Assert.False(child.Engine.TryGetReceiver(_operationId, out _));
        Assert.Empty(Directory.EnumerateFileSystemEntries(receives));
        Assert.Empty(_cluster.Events.All<ReceiveResumed>());
    }

    /// <summary>Starts the transfer, waits until the child holds <paramref name="atLeast"/> bytes and recorded some while receiving, then stops it.</summary>
    private async Task<Receiver> ReceiveThenStopAsync(long atLeast)
    {
        Assert.True(_cluster["child"].Engine.TryGetReceiver(_operationId, out var receiver));
        Assert.True(_root.Engine.StartTransfer(_operationId));
        await Poll.UntilAsync(() => receiver.BytesReceived >= atLeast, $"the child holds {atLeast} bytes", TimeSpan.FromMinutes(2));

        // Recorded while receiving (every second or few MiB), not only when the agent stops: a crash loses little.
        await Poll.UntilAsync(() => RecordedOffset() > 0, "the child recorded its offsets while receiving", TimeSpan.FromMinutes(1));
        await _cluster.StopAsync("child");
        return receiver;
    }

    private long RecordedOffset() =>
        new ReceiveJournal(Path.Combine(_cluster.WorkDirectory, "child", "receives", _operationId.ToString("N"))).Read() is var (_, offsets, _) ? offsets[0] : 0;
}
