using Treecast.Contracts;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Ingress;

/// <summary>The embedded default: the standalone host publishes ExternalEvent on the in-memory bus.</summary>
public sealed class When_the_standalone_host_publishes_an_external_event
{
    [Fact]
    public async Task Should_start_a_broadcast()
    {
        await using var service = await PolicyServiceHost.StartAsync(Yaml.Degraded);

        await service.Bus.Publish(new ExternalEvent { Type = "host.degraded", Vmm = "host-11", Severity = "critical" });

        var broadcast = await service.Recorder.WaitFor<BroadcastRequested>(b => b.RootVmmId == "host-11", TimeSpan.FromSeconds(10));
        Assert.Equal(3, broadcast.FanOut);
    }
}
