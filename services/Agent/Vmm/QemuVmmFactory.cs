using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Vmm;

/// <summary>
/// The <c>qemu</c> driver: a <see cref="QemuVmm"/> with <see cref="AgentOptions.VmCount"/> VMs defined by
/// <see cref="QemuOptions"/> (the <c>Agent:Qemu</c> section, with <c>TREECAST_QEMU_*</c> environment variables over it).
/// </summary>
public sealed class QemuVmmFactory(QemuOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory) : VmmDriver(QemuVmm.Kind, "QEMU")
{
    protected override IVmm CreateVmm(AgentOptions agent, string workDirectory) =>
        new QemuVmm(
            agent.VmmId,
            workDirectory,
            agent.VmCount,
            options.WithEnvironment(),
            timeProvider,
            loggerFactory.CreateLogger<QemuVmm>());
}
