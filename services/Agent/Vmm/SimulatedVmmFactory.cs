namespace Treecast.Agent.Vmm;

/// <summary>The <c>simulated</c> driver: a <see cref="SimulatedVmm"/> with images of <see cref="AgentOptions.ImageMiB"/>.</summary>
public sealed class SimulatedVmmFactory(TimeProvider timeProvider, ILoggerFactory loggerFactory) : VmmDriver("simulated", "simulated")
{
    protected override IVmm CreateVmm(AgentOptions options, string workDirectory) =>
        new SimulatedVmm(
            options.VmmId,
            workDirectory,
            options.VmCount,
            options.ImageMiB * 1024L * 1024L,
            timeProvider,
            loggerFactory.CreateLogger<SimulatedVmm>());
}
