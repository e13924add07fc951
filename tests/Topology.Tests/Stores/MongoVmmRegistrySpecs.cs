using Treecast.TestSupport;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Stores;

/// <summary>
/// The registry contract against MongoDB, plus what only a persistent store does: outlive the process.
/// Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class MongoVmmRegistrySpecs(MongoDbServer server) : VmmRegistryContract, IClassFixture<MongoDbServer>
{
    protected override IVmmRegistry CreateRegistry()
    {
        var database = server.Require();
        database.DropCollection(MongoVmmRegistry.CollectionName);
        return new MongoVmmRegistry(database);
    }

    [SkippableFact]
    public async Task A_restarted_topology_service_still_knows_every_vmm()
    {
        var before = CreateRegistry();
        await before.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);
        await before.RecordHeartbeatAsync(Heartbeat("vmm-b"), Start, CancellationToken.None);
        await before.MarkLostAsync("vmm-b", Start, CancellationToken.None);

        var after = new MongoVmmRegistry(server.Require());

        Assert.Equal(["vmm-a", "vmm-b"], (await after.ListAsync(CancellationToken.None)).Select(v => v.VmmId));
        Assert.Equal(["vmm-a"], (await after.ListLiveAsync(CancellationToken.None)).Select(v => v.VmmId));
        Assert.Equal(HeartbeatOutcome.Returned, await after.RecordHeartbeatAsync(Heartbeat("vmm-b"), Start.AddMinutes(1), CancellationToken.None));
    }
}
