using MassTransit;
using MongoDB.Driver;

namespace Treecast.Persistence.Sagas;

/// <summary>The filters behind the repository's optimistic concurrency, public so their BSON can be checked.</summary>
public static class MongoSagaFilters
{
    public static FilterDefinition<TSaga> ById<TSaga>(Guid correlationId)
        where TSaga : class, ISagaVersion =>
        Builders<TSaga>.Filter.Eq(x => x.CorrelationId, correlationId);

    /// <summary>
    /// Matches the stored saga only while its version is below <paramref name="newVersion"/>: a writer that loaded
    /// an older version than the one now stored finds nothing to replace.
    /// </summary>
    public static FilterDefinition<TSaga> ForUpdate<TSaga>(Guid correlationId, int newVersion)
        where TSaga : class, ISagaVersion =>
        Builders<TSaga>.Filter.Eq(x => x.CorrelationId, correlationId)
        & Builders<TSaga>.Filter.Lt(x => x.Version, newVersion);

    /// <summary>Matches the stored saga only if nobody has saved a newer version than the one being deleted.</summary>
    public static FilterDefinition<TSaga> ForDelete<TSaga>(Guid correlationId, int version)
        where TSaga : class, ISagaVersion =>
        Builders<TSaga>.Filter.Eq(x => x.CorrelationId, correlationId)
        & Builders<TSaga>.Filter.Lte(x => x.Version, version);
}
