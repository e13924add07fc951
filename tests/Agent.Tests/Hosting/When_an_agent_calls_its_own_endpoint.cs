using Treecast.Agent.Tests.Support;
using Treecast.TestSupport.Network;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>
/// After start an agent calls its own advertised endpoint once, over mutual TLS with its own certificate: the push path
/// of both ends is warm before the first operation, and an endpoint that does not lead back to the agent is reported.
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
    public async Task Should_say_so_when_the_advertised_endpoint_leads_nowhere()
    {
        var options = new AgentOptions { VmmId = "vmm-a", AdvertisedPort = LoopbackPort.Free(), HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        await using var cluster = await AgentCluster.StartAsync([options]);

        Assert.False(await cluster.Agents["vmm-a"].Node.CallOwnEndpointAsync(CancellationToken.None));
    }
}
