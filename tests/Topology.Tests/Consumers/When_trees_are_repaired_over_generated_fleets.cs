using Treecast.Contracts;
using Treecast.Topology.Tests.Trees;

namespace Treecast.Topology.Tests.Consumers;

/// <summary>
/// Repairs over random fleets: some VMMs lost, some members the operation failed, some never registered. A
/// repaired tree must be like any tree the service builds, over exactly the live members.
/// </summary>
public sealed class When_trees_are_repaired_over_generated_fleets
{
    public static TheoryData<int> Seeds => [1, 2, 3, 5, 8, 13];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Should_place_every_live_member_once_with_the_proximity_property_and_a_higher_version(int seed)
    {
        foreach (var hosts in new[] { 1, 2, 7, 16, 33, 50 })
        {
            await using var topology = await TopologyHarness.StartAsync();
            var fleet = GeneratedFleet.Create(seed * 1000 + hosts, hosts);
            await RegisterAsync(topology, fleet);
            var random = new Random(seed + hosts);

            // The operation failed some of its VMMs (they are not asked for), and knows of one that never registered.
            var members = fleet.Vmms.Select(v => v.VmmId).Where(id => id == fleet.RootVmmId || random.NextDouble() > 0.2).Append($"ghost-{hosts}").ToList();
            var fanOut = 1 + random.Next(4);
            var previousVersion = random.Next(1, 500);
            var operationId = Guid.NewGuid();

            await topology.SendAsync(new RepairTree(operationId, fleet.RootVmmId, fanOut, members, previousVersion));

            var repaired = await topology.WaitForPublished<TreeRepaired>(r => r.OperationId == operationId);
            var live = fleet.Live.Select(v => v.VmmId).ToHashSet();
            Assert.Equal(members.Where(live.Contains).Order(), repaired.Tree.Nodes.Select(n => n.VmmId).Order());
            Assert.Equal(members.Where(m => !live.Contains(m)).Order(), repaired.Left);
            Assert.Equal(fleet.RootVmmId, repaired.Tree.RootVmmId);
            Assert.True(repaired.Tree.Version > previousVersion, $"seed {seed}, {hosts} hosts: version {repaired.Tree.Version} not above {previousVersion}");
            TreeShape.AssertWellFormed(repaired.Tree, fanOut);
        }
    }

    /// <summary>Puts the fleet in the registry as heartbeats would, its lost VMMs declared lost.</summary>
    private static async Task RegisterAsync(TopologyHarness topology, GeneratedFleet fleet)
    {
        var now = topology.Time.GetUtcNow();
        foreach (var vmm in fleet.Vmms)
        {
            var heartbeat = new VmmHeartbeat(vmm.VmmId, vmm.GrpcEndpoint, vmm.Location, vmm.VmIds, now, vmm.Interval);
            await topology.Registry.RecordHeartbeatAsync(heartbeat, now, CancellationToken.None);
            if (vmm.IsLost)
            {
                await topology.Registry.MarkLostAsync(vmm.VmmId, now, CancellationToken.None);
            }
        }
    }
}
