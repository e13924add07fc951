using Treecast.Agent.Vmm;

namespace Treecast.Agent.Runtime;

public sealed class SimulatedVmmFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IVmmFactory
{
    public IVmm Create(AgentOptions options, string workDirectory)
    {
        if (!string.Equals(options.Vmm, "simulated", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Agent {options.VmmId}: VMM driver '{options.Vmm}' is not available; set Agent:Vmm to 'simulated'.");
        }

        return new SimulatedVmm(
            options.VmmId,
            workDirectory,
            options.VmCount,
            options.ImageMiB * 1024L * 1024L,
            timeProvider,
            loggerFactory.CreateLogger<SimulatedVmm>());
    }
}
