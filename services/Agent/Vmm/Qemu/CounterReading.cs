namespace Treecast.Agent.Vmm.Qemu;

/// <summary>The counter guest's block as read from guest memory.</summary>
/// <param name="Generation">The workload generation the guest last took from the host (0: none yet).</param>
public sealed record CounterReading(uint Counter, uint Target, byte Generation);
