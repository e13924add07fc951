using Treecast.Topology.Registry;

namespace Treecast.Bench.Trees;

/// <summary>
/// A fleet laid out as a datacenter is: <see cref="HostsPerRack"/> hosts to a rack, <see cref="RacksPerPod"/> racks to a
/// pod, <see cref="PodsPerSite"/> pods to a site, filled in that order; the last rack, pod and site may be partial.
/// </summary>
public sealed record DatacenterFleet(int Hosts, int HostsPerRack = 40, int RacksPerPod = 20, int PodsPerSite = 5)
{
    private static readonly DateTimeOffset SeenAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public int Racks => Ceiling(Hosts, HostsPerRack);

    public int Pods => Ceiling(Racks, RacksPerPod);

    public int Sites => Ceiling(Pods, PodsPerSite);

    /// <summary>Groups at each level (1 = site, 2 = pod, 3 = rack): a proximity tree crosses each level's boundaries at least groups − 1 times.</summary>
    public int GroupsAt(int levels) => levels switch
    {
        1 => Sites,
        2 => Pods,
        _ => Racks,
    };

    public IReadOnlyList<RegisteredVmm> Vmms()
    {
        var vmms = new List<RegisteredVmm>(Hosts);
        for (var i = 0; i < Hosts; i++)
        {
            var rack = i / HostsPerRack;
            var pod = rack / RacksPerPod;
            var site = pod / PodsPerSite;
            var id = $"vmm-{i:D6}";
            var location = $"site-{site + 1}/pod-{pod % PodsPerSite + 1}/rack-{rack % RacksPerPod + 1}";
            vmms.Add(new RegisteredVmm(id, $"https://{id}:5001", location, [$"{id}-vm-0"], SeenAt, TimeSpan.FromSeconds(2)));
        }

        return vmms;
    }

    private static int Ceiling(int count, int per) => (count + per - 1) / per;
}
