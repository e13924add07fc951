using Treecast.Agent.Runtime;
using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>Reads what every in-process VMM holds now: the ground truth the embedded run checks against.</summary>
public static class AgentStates
{
    public static IReadOnlyDictionary<string, IReadOnlyList<VmCopy>> Read(IServiceProvider services) =>
        services.GetRequiredService<AgentDirectory>().Runtimes.ToDictionary(
            runtime => runtime.VmmId,
            runtime => (IReadOnlyList<VmCopy>)runtime.Vmm.Vms
                .Select(vm => new VmCopy(vm.VmId, vm.Sha256 ?? string.Empty, vm.State, vm.MacAddress))
                .ToList());
}
