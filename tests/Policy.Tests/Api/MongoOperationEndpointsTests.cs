using Treecast.Policy.Operations;
using Treecast.Policy.Sagas;
using Treecast.TestSupport;

namespace Treecast.Policy.Tests.Api;

/// <summary>
/// The operations read-out straight from the MongoDB saga collection, after the saga ran on the MongoDB
/// repository. Skipped, with the reason, where no MongoDB server is reachable.
/// </summary>
public sealed class MongoOperationEndpointsTests(MongoDbServer server) : OperationEndpointsContract, IClassFixture<MongoDbServer>
{
    protected override IReadOnlyDictionary<string, string?> StoreSettings()
    {
        var database = server.Require();
        database.DropCollection(SagaRegistration.OperationsCollection);
        database.DropCollection(SagaRegistration.WatchesCollection);
        database.DropCollection(MongoOperationProgressStore.CollectionName);
        return new Dictionary<string, string?>
        {
            ["Mongo:ConnectionString"] = server.ConnectionString,
            ["Mongo:Database"] = server.DatabaseName,
        };
    }
}
