namespace Treecast.Agent.Vmm;

/// <summary>What a simulated VM image records about itself in its first 4 KiB.</summary>
/// <param name="WorkloadProgress">Work done, in <see cref="SimulatedVmm.WorkTick"/> units.</param>
/// <param name="WorkloadTarget">Work to do, in the same units; 0 when no workload was started.</param>
internal sealed record SimulatedImageHeader(string VmId, string? WorkloadId, long WorkloadProgress, long WorkloadTarget);
