using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Tests.Vmm;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Tests.Hosting;

public sealed class ConfiguredVmmFactorySpecs : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly ConfiguredVmmFactory _factory = new(
    [
        new SimulatedVmmFactory(TimeProvider.System, NullLoggerFactory.Instance),
        new QemuVmmFactory(new QemuOptions(), TimeProvider.System, NullLoggerFactory.Instance),
    ]);

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("simulated")]
    [InlineData("Simulated")]
    public async Task Should_create_a_simulated_vmm_for_an_agent_that_names_it(string driver)
    {
        await using var vmm = _factory.Create(new AgentOptions { VmmId = "host-01", Vmm = driver, VmCount = 1, ImageMiB = 1 }, _directory.Sub("simulated"));

        Assert.IsType<SimulatedVmm>(vmm);
        Assert.Single(vmm.Vms);
    }

    [Theory]
    [InlineData("qemu")]
    [InlineData("QEMU")]
    public async Task Should_create_a_qemu_vmm_for_an_agent_that_names_it(string driver)
    {
        // No VMs: a receiving VMM starts no QEMU, so this runs where QEMU is not installed.
        await using var vmm = _factory.Create(new AgentOptions { VmmId = "host-02", Vmm = driver, VmCount = 0 }, _directory.Sub("qemu"));

        Assert.IsType<QemuVmm>(vmm);
        Assert.Empty(vmm.Vms);
    }

    [Fact]
    public void Should_refuse_an_unknown_driver_naming_the_setting_and_the_valid_values()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _factory.Create(new AgentOptions { VmmId = "host-03", Vmm = "vmware" }, _directory.Path));

        Assert.Equal("Agent host-03: Agent:Vmm is 'vmware', which is not a VMM driver; set it to one of 'simulated', 'qemu'.", error.Message);
    }

    [Fact]
    public async Task Should_fail_the_agents_start_when_its_driver_is_unknown()
    {
        var hosts = new[] { new AgentOptions { VmmId = "host-04", Vmm = "vmware", HeartbeatInterval = TimeSpan.FromMilliseconds(200) } };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AgentCluster.StartAsync(hosts));

        Assert.Contains("Agent:Vmm is 'vmware'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'simulated', 'qemu'", error.Message, StringComparison.Ordinal);
    }
}
