using Treecast.Agent.Tests.Support;

namespace Treecast.Agent.Tests.Tls;

/// <summary>A test fleet that opted out of TLS (<c>Agent:Tls:AllowPlaintext</c>): today's cleartext path, said loudly.</summary>
public sealed class When_agents_allow_plaintext
{
    [Fact]
    public async Task Should_relay_in_cleartext_over_http_endpoints_and_warn_that_anyone_can_push()
    {
        var logs = new RecordedLogs();
        await using var cluster = new TransferCluster(plaintext: true, logs: logs);
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 300_000)]);
        var child = await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId);

        Assert.True(root.Engine.StartTransfer(operationId));
        await cluster.WaitForReceivedAsync(operationId, "child");

        Assert.StartsWith("http://127.0.0.1:", child.Endpoint, StringComparison.Ordinal);
        var warning = Assert.Single(logs.With($"agent child serves and pushes"));
        Assert.StartsWith("Warning: INSECURE: Agent:Tls:AllowPlaintext is true", warning, StringComparison.Ordinal);
        Assert.Contains($"anyone who can reach port {child.Server.Port}", warning, StringComparison.Ordinal);
    }
}
