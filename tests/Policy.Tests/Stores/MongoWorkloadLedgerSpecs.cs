using MongoDB.Bson;
using MongoDB.Driver;
using Treecast.Policy.Workloads;
using Treecast.TestSupport;

namespace Treecast.Policy.Tests.Stores;

/// <summary>
/// The workload ledger contract against MongoDB, plus what it is for: the ledger outlives the process, one
/// document per workload. Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class MongoWorkloadLedgerSpecs(MongoDbServer server) : WorkloadLedgerContract, IClassFixture<MongoDbServer>
{
    protected override IWorkloadLedger CreateLedger()
    {
        var database = server.Require();
        database.DropCollection(MongoWorkloadLedger.CollectionName);
        return new MongoWorkloadLedger(database);
    }

    [SkippableFact]
    public async Task Should_still_know_a_completion_after_a_restart()
    {
        var before = CreateLedger();
        await before.RecordCompletionAsync(new WorkloadCompletion("wl-1", "vmm-3", CompletedAt), CancellationToken.None);

        var after = new MongoWorkloadLedger(server.Require());

        Assert.Equal(new WorkloadCompletion("wl-1", "vmm-3", CompletedAt), await after.FindCompletionAsync("wl-1", CancellationToken.None));
    }

    [SkippableFact]
    public async Task Should_keep_one_document_per_workload_keyed_by_its_id()
    {
        var ledger = CreateLedger();
        await ledger.RecordCompletionAsync(new WorkloadCompletion("wl-1", "vmm-3", CompletedAt.AddMinutes(1)), CancellationToken.None);
        await ledger.RecordCompletionAsync(new WorkloadCompletion("wl-1", "vmm-4", CompletedAt), CancellationToken.None);
        await ledger.RecordCompletionAsync(new WorkloadCompletion("wl-1", "vmm-5", CompletedAt.AddMinutes(2)), CancellationToken.None);

        var documents = await server.Require().GetCollection<BsonDocument>(MongoWorkloadLedger.CollectionName)
            .Find(FilterDefinition<BsonDocument>.Empty)
            .ToListAsync();

        var document = Assert.Single(documents);
        Assert.Equal("wl-1", document["_id"].AsString);
        Assert.Equal("vmm-4", document["VmmId"].AsString);
        Assert.Equal(CompletedAt.UtcDateTime.AddTicks(-(CompletedAt.UtcTicks % TimeSpan.TicksPerMillisecond)), document["CompletedAt"]["DateTime"].ToUniversalTime());
    }
}
