using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Vmm;

/// <summary>
/// Creates a <see cref="QemuVmm"/> for an agent whose options name the <c>qemu</c> driver: <see cref="AgentOptions.VmCount"/>
/// VMs defined by <see cref="QemuOptions"/> (the <c>Agent:Qemu</c> section, with <c>TREECAST_QEMU_*</c> environment
/// variables over it).
/// </summary>
public sealed class QemuVmmFactory(QemuOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory) : IVmmFactory
{
    public IVmm Create(AgentOptions agent, string workDirectory)
    {
        if (!string.Equals(agent.Vmm, QemuVmm.Kind, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Agent {agent.VmmId}: this factory creates QEMU VMMs, not '{agent.Vmm}'; set Agent:Vmm to '{QemuVmm.Kind}' or use the factory of that driver.");
        }

        return new QemuVmm(
            agent.VmmId,
            workDirectory,
            agent.VmCount,
            options.WithEnvironment(),
            timeProvider,
            loggerFactory.CreateLogger<QemuVmm>());
    }
}
