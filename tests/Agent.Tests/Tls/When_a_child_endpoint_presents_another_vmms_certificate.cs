using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Tls;

/// <summary>
/// The tree sends the parent to child X's endpoint, but what answers there presents Y's certificate (a hijacked address,
/// a stale registry): the parent must not hand X's copy to Y.
/// </summary>
public sealed class When_a_child_endpoint_presents_another_vmms_certificate : IAsyncLifetime
{
    private readonly RecordedLogs _logs = new();
    private TransferCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = new TransferCluster(logs: _logs);
        await _cluster.AddAsync("root", null, [("root-vm-0", 1024 * 1024)], tune: s => s with { ChildGracePeriod = TimeSpan.FromSeconds(2) });
        await _cluster.AddAsync("child-y", null);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Should_refuse_to_send_and_report_the_relay_failed()
    {
        var root = _cluster["root"];
        var impostor = _cluster["child-y"];
        var tree = new VmmTree(1, "root", 2, [root.Node(null), new TreeNode("child-x", "root", "site-a/pod-1/rack-1", impostor.Endpoint)]);
        var operationId = Guid.NewGuid();
        root.Engine.Announce(new AnnouncePendingTransfer(operationId, "root", tree, root.Vmm.Images, 64 * 1024, BroadcastMode.Broadcast));

        Assert.True(root.Engine.StartTransfer(operationId));

        var failed = await _cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId, TimeSpan.FromMinutes(1));
        Assert.Equal("child-x", failed.VmmId);
        Assert.Equal(OperationStep.Relay, failed.Step);
        Assert.Contains(_logs.With("root will not push to child-x"), l => l.Contains("the server's certificate names child-y, not child-x", StringComparison.Ordinal));
        // Nothing reached child-y's service: no header was ever sent to it.
        Assert.Empty(_logs.With("Refused push"));
        Assert.Empty(_logs.With("Receiving operation"));
    }
}
