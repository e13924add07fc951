using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Tests.Vmm;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Tests.Qemu;

public sealed class QemuVmmFactorySpecs : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly QemuVmmFactory _factory = new(new QemuOptions(), TimeProvider.System, NullLoggerFactory.Instance);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Should_create_a_qemu_vmm_for_an_agent_that_names_the_qemu_driver()
    {
        await using var vmm = _factory.Create(new AgentOptions { VmmId = "host-09", Vmm = "QEMU", VmCount = 0 }, _directory.Path);

        var qemuVmm = Assert.IsType<QemuVmm>(vmm);
        Assert.Equal("host-09", qemuVmm.VmmId);
        Assert.Empty(qemuVmm.Vms);
        Assert.Equal("qemu", qemuVmm.Definition.Kind);
    }

    [Fact]
    public void Should_refuse_an_agent_that_names_another_driver_and_say_which_setting_to_change()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _factory.Create(new AgentOptions { VmmId = "host-09", Vmm = "simulated" }, _directory.Path));

        Assert.Contains("Agent:Vmm", error.Message, StringComparison.Ordinal);
        Assert.Contains("'simulated'", error.Message, StringComparison.Ordinal);
    }
}
