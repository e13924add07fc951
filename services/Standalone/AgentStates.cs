using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>Reads what every in-process VMM holds now: the ground truth the embedded run checks against.</summary>
public static class AgentStates
{
    public static IReadOnlyDictionary<string, IReadOnlyList<VmCopy>> Read(IServiceProvider services) =>
        services.GetRequiredService<AgentDirectory>().Hosts.ToDictionary(
            host => host.VmmId,
            host => (IReadOnlyList<VmCopy>)host.Vmm.Vms
                .Select(vm => new VmCopy(vm.VmId, vm.Sha256 ?? string.Empty, vm.State, vm.MacAddress))
                .ToList());
}
