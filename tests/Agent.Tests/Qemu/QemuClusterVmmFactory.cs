using Microsoft.Extensions.Logging;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Tests.Qemu;

/// <summary>
/// Creates a real <see cref="QemuVmm"/> for every agent of a test cluster, booting the fixture's guest (so every QEMU
/// carries the fixture's marker); the agent named <paramref name="killedVmmId"/> gets a <see cref="KilledMidStreamVmm"/>.
/// </summary>
internal sealed class QemuClusterVmmFactory(QemuOptions options, ILoggerFactory loggerFactory, string? killedVmmId = null) : IVmmFactory
{
    // sockaddr_un holds 108 bytes; QemuVmm keeps its sockets in its work directory only below this length.
    private const int MaxSocketDirectoryLength = 80;

    public IVmm Create(AgentOptions agent, string workDirectory)
    {
        var vmm = new QemuVmm(agent.VmmId, workDirectory, agent.VmCount, options, TimeProvider.System, loggerFactory.CreateLogger<QemuVmm>());
        if (agent.VmmId != killedVmmId)
        {
            return vmm;
        }

        if (Path.Combine(workDirectory, "sockets").Length > MaxSocketDirectoryLength)
        {
            throw new InvalidOperationException($"Give {agent.VmmId} a shorter work directory than {workDirectory}: its QEMUs are found by their socket paths.");
        }

        return new KilledMidStreamVmm(vmm, workDirectory);
    }
}
