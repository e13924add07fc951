using MongoDB.Bson;
using MongoDB.Driver;
using Treecast.Policy.Operations;
using Treecast.TestSupport;

namespace Treecast.Policy.Tests.Operations;

/// <summary>The <c>operation_progress</c> collection; skipped, with the reason, where no MongoDB server is reachable.</summary>
public sealed class When_progress_is_kept_in_mongodb(MongoDbServer server) : OperationProgressStoreContract, IClassFixture<MongoDbServer>
{
    protected override IOperationProgressStore CreateStore() => new MongoOperationProgressStore(server.Require());

    [SkippableFact]
    public async Task Should_store_one_document_per_receiver_as_operators_read_it()
    {
        var database = server.Require();
        var store = new MongoOperationProgressStore(database);
        var id = Guid.NewGuid();

        await store.RecordAsync(new Contracts.TransferProgressed(id, "vmm-4", 4096, 8192), DateTimeOffset.UnixEpoch.AddDays(20000), default);
        await store.RecordAsync(new Contracts.TransferProgressed(id, "vmm-4", 2048, 8192), DateTimeOffset.UnixEpoch.AddDays(20001), default);

        var documents = await database.GetCollection<BsonDocument>(MongoOperationProgressStore.CollectionName)
            .Find(new BsonDocument("OperationId", new BsonBinaryData(id, GuidRepresentation.Standard)))
            .ToListAsync();
        var document = Assert.Single(documents);
        Assert.Equal($"{id:D}/vmm-4", document["_id"].AsString);
        Assert.Equal("vmm-4", document["VmmId"].AsString);
        Assert.Equal(4096, document["BytesReceived"].ToInt64());
        Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(20001).UtcDateTime, document["LastProgressAt"]["DateTime"].ToUniversalTime());
    }
}
