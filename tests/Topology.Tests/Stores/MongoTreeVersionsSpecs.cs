using MongoDB.Bson;
using MongoDB.Driver;
using Treecast.TestSupport;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Stores;

/// <summary>
/// The tree version contract against MongoDB, plus what only a persistent store does: keep versions rising
/// across a restart. Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class MongoTreeVersionsSpecs(MongoDbServer server) : TreeVersionsContract, IClassFixture<MongoDbServer>
{
    protected override ITreeVersions CreateVersions()
    {
        var database = server.Require();
        database.DropCollection(MongoTreeVersions.CollectionName);
        return new MongoTreeVersions(database, TimeProvider.System);
    }

    [SkippableFact]
    public async Task A_restarted_topology_service_hands_out_higher_versions_and_knows_the_latest_tree()
    {
        var before = CreateVersions();
        var last = 0L;
        for (var i = 0; i < 3; i++)
        {
            last = await before.NextVersionAsync(CancellationToken.None);
        }

        await before.RecordAsync(Tree(last), CancellationToken.None);

        var after = new MongoTreeVersions(server.Require(), TimeProvider.System);

        Assert.True(await after.NextVersionAsync(CancellationToken.None) > last);
        Assert.Equal(last, (await after.LatestAsync(CancellationToken.None))?.Version);
    }

    [SkippableFact]
    public async Task The_counter_is_one_document_beside_the_trees()
    {
        var versions = CreateVersions();
        await versions.NextVersionAsync(CancellationToken.None);
        await versions.NextVersionAsync(CancellationToken.None);
        await versions.RecordAsync(Tree(2), CancellationToken.None);

        var documents = await server.Require().GetCollection<BsonDocument>(MongoTreeVersions.CollectionName)
            .Find(FilterDefinition<BsonDocument>.Empty)
            .ToListAsync();

        var counter = Assert.Single(documents, d => d["_id"].IsString);
        Assert.Equal(2L, counter["Value"].AsInt64);
        var tree = Assert.Single(documents, d => d["_id"].IsInt64);
        Assert.Equal("vmm-0", tree["RootVmmId"].AsString);
    }
}
