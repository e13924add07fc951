using MongoDB.Driver;
using Treecast.Persistence.Sagas;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Operations;

/// <summary>
/// Reads operations straight from the saga collection (<c>broadcast_operations</c>), filtered, sorted and limited
/// by the server on the indexed fields the operators' mongosh queries use.
/// </summary>
public sealed class MongoOperationReadModel(MongoSagaCollection<BroadcastOperationState> sagas) : IOperationReadModel
{
    // The UTC date of the stored DateTimeOffset document: what the "requested_at" index covers.
    private const string RequestedAtDate = "RequestedAt.DateTime";

    public async Task<IReadOnlyList<BroadcastOperationState>> ListAsync(OperationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = Builders<BroadcastOperationState>.Filter;
        var conditions = new List<FilterDefinition<BroadcastOperationState>>();
        if (query.State is not null)
        {
            conditions.Add(filter.Eq(o => o.CurrentState, query.State));
        }

        if (query.RootVmmId is not null)
        {
            conditions.Add(filter.Eq(o => o.RootVmmId, query.RootVmmId));
        }

        if (query.Since is { } since)
        {
            // BSON dates hold milliseconds: an operation requested within the same millisecond as `since` counts.
            conditions.Add(filter.Gte(RequestedAtDate, TruncateToMilliseconds(since.UtcDateTime)));
        }

        var collection = await sagas.ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await collection.Find(conditions.Count == 0 ? filter.Empty : filter.And(conditions))
            .Sort(Builders<BroadcastOperationState>.Sort.Descending(RequestedAtDate).Ascending(o => o.CorrelationId))
            .Limit(query.Limit)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<BroadcastOperationState?> FindAsync(Guid operationId, CancellationToken cancellationToken)
    {
        var collection = await sagas.ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await collection.Find(Builders<BroadcastOperationState>.Filter.Eq(o => o.CorrelationId, operationId))
            .FirstOrDefaultAsync(cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Guid>> RunningWithHostAsync(string vmmId, CancellationToken cancellationToken)
    {
        var filter = Builders<BroadcastOperationState>.Filter;
        var collection = await sagas.ReadyAsync(cancellationToken).ConfigureAwait(false);
        return await collection.Find(filter.In(o => o.CurrentState, OperationQuery.RunningStates)
                & filter.ElemMatch(o => o.Hosts, h => h.VmmId == vmmId))
            .Project(o => o.CorrelationId)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
    }

    private static DateTime TruncateToMilliseconds(DateTime utc) =>
        new(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
}
