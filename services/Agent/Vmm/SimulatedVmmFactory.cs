namespace Treecast.Agent.Vmm;

/// <summary>Creates a <see cref="SimulatedVmm"/> for an agent whose options name the <c>simulated</c> driver.</summary>
public sealed class SimulatedVmmFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : IVmmFactory
{
    public IVmm Create(AgentOptions options, string workDirectory)
    {
        if (!string.Equals(options.Vmm, "simulated", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Agent {options.VmmId}: this factory creates simulated VMMs, not '{options.Vmm}'; set Agent:Vmm to 'simulated' or use the factory of that driver.");
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
