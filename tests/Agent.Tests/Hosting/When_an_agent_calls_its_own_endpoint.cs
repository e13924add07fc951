using Treecast.Agent.Tests.Support;
using Treecast.TestSupport.Network;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>
/// After start an agent calls its own advertised endpoint once, and opens a push of no operation that it refuses, over
/// mutual TLS with its own certificate: the push path of both ends is warm before the first operation, and an endpoint
/// that does not lead back to the agent is reported.
/// </summary>
public sealed class When_an_agent_calls_its_own_endpoint
{
    [Fact]
    public async Task Should_answer_itself_on_the_endpoint_it_advertises()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a");

        Assert.True(await cluster.Agents["vmm-a"].Node.CallOwnEndpointAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Should_open_a_push_to_itself_and_have_it_refused()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a");
        var node = cluster.Agents["vmm-a"].Node;

        Assert.True(await node.Channels.TryWarmPushAsync(node.GrpcEndpoint, node.VmmId, CancellationToken.None));
    }

    [Fact]
    public async Task Should_say_so_when_the_advertised_endpoint_leads_nowhere()
    {
        var options = new AgentOptions { VmmId = "vmm-a", AdvertisedPort = LoopbackPort.Free(), HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        await using var cluster = await AgentCluster.StartAsync([options]);
        var node = cluster.Agents["vmm-a"].Node;

        Assert.False(await node.CallOwnEndpointAsync(CancellationToken.None));
        Assert.False(await node.Channels.TryWarmPushAsync(node.GrpcEndpoint, node.VmmId, CancellationToken.None));
    }
}
