using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Policy.Policies;
using Treecast.TestSupport;

namespace Treecast.Policy.Tests.Stores;

/// <summary>
/// The policy store contract against MongoDB, plus what it is for: the record outlives the process.
/// Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class MongoPolicyStoreSpecs(MongoDbServer server) : PolicyStoreContract, IClassFixture<MongoDbServer>
{
    protected override IPolicyStore CreateStore()
    {
        var database = server.Require();
        database.DropCollection(MongoPolicyStore.CollectionName);
        return new MongoPolicyStore(database, NullLogger<MongoPolicyStore>.Instance);
    }

    [SkippableFact]
    public async Task Operators_still_see_the_recorded_files_after_a_restart()
    {
        var before = CreateStore();
        before.Replace(Set(LoadedAt, File("a.yaml", 'a', "one")));
        await before.RecordedFilesAsync(CancellationToken.None);

        var after = new MongoPolicyStore(server.Require(), NullLogger<MongoPolicyStore>.Instance);

        var recorded = Assert.Single(await after.RecordedFilesAsync(CancellationToken.None));
        Assert.Equal("a.yaml", recorded.File);
        Assert.Empty(after.Current.Policies);
    }
}
