using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Trees;

/// <summary>A random but reproducible fleet: hosts spread over sites, pods and racks, some lost, some with short locations.</summary>
internal sealed record GeneratedFleet(IReadOnlyList<RegisteredVmm> Vmms, string RootVmmId)
{
    public static readonly DateTimeOffset SeenAt = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public IEnumerable<RegisteredVmm> Live => Vmms.Where(v => !v.IsLost);

    public static GeneratedFleet Create(int seed, int hosts, int maxLevels = 3)
    {
        var random = new Random(seed);
        var sites = random.Next(1, 5);
        var racks = new List<string>();
        for (var s = 1; s <= sites; s++)
        {
            for (var p = 1; p <= random.Next(1, 4); p++)
            {
                for (var r = 1; r <= random.Next(1, 5); r++)
                {
                    var path = $"site-{s}/pod-{p}/rack-{r}";
                    for (var extra = 4; extra <= maxLevels; extra++)
                    {
                        path += $"/switch-{random.Next(1, 3)}";
                    }

                    racks.Add(path);
                }
            }
        }

        // Ids are not in location order, so "lowest id" and "placement order" do not coincide by accident.
        var ids = Enumerable.Range(0, hosts).Select(i => $"vmm-{random.Next(100_000):D5}-{i}").ToList();
        var vmms = new List<RegisteredVmm>();
        foreach (var id in ids)
        {
            var location = racks[random.Next(racks.Count)];
            if (random.NextDouble() < 0.1)
            {
                // Some agents report only part of their location; the missing levels are a group of their own.
                var levels = location.Split('/');
                location = string.Join('/', levels.Take(random.Next(0, levels.Length)));
            }

            var lost = random.NextDouble() < 0.15;
            vmms.Add(new RegisteredVmm(id, $"http://{id}:5001", location, [$"{id}-vm"], SeenAt, TimeSpan.FromSeconds(1), lost));
        }

        var rootIndex = random.Next(hosts);
        vmms[rootIndex] = vmms[rootIndex] with { IsLost = false };
        return new GeneratedFleet(vmms, ids[rootIndex]);
    }
}
