using System.Linq.Expressions;
using MassTransit;
using MassTransit.Saga;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Operations;

/// <summary>
/// Reads operations through MassTransit's query and load repositories, which every saga repository provides:
/// the read model of the in-memory store. The query finds ids, each is then loaded; fine for the few thousand
/// operations an embedded run holds, which is why the MongoDB store has its own read model.
/// </summary>
public sealed class SagaRepositoryOperationReadModel(
    IQuerySagaRepository<BroadcastOperationState> sagaQueries,
    ILoadSagaRepository<BroadcastOperationState> sagaLoads) : IOperationReadModel
{
    public async Task<IReadOnlyList<BroadcastOperationState>> ListAsync(OperationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var ids = await sagaQueries.Find(new SagaQuery<BroadcastOperationState>(Matching(query))).ConfigureAwait(false);
        var found = new List<BroadcastOperationState>();
        foreach (var id in ids)
        {
            // Null when the saga was removed between the query and the load.
            if (await sagaLoads.Load(id).ConfigureAwait(false) is { } operation)
            {
                found.Add(operation);
            }
        }

        return found
            .OrderByDescending(o => o.RequestedAt)
            .ThenBy(o => o.CorrelationId)
            .Take(query.Limit)
            .ToList();
    }

    public async Task<BroadcastOperationState?> FindAsync(Guid operationId, CancellationToken cancellationToken) =>
        await sagaLoads.Load(operationId).ConfigureAwait(false);

    public async Task<IReadOnlyList<Guid>> RunningWithHostAsync(string vmmId, CancellationToken cancellationToken)
    {
        var running = OperationQuery.RunningStates;
        var ids = await sagaQueries
            .Find(new SagaQuery<BroadcastOperationState>(o => running.Contains(o.CurrentState) && o.Hosts.Any(h => h.VmmId == vmmId)))
            .ConfigureAwait(false);
        return ids.ToList();
    }

    private static Expression<Func<BroadcastOperationState, bool>> Matching(OperationQuery query)
    {
        var state = query.State;
        var root = query.RootVmmId;
        var since = query.Since;
        return o => (state == null || o.CurrentState == state)
            && (root == null || o.RootVmmId == root)
            && (since == null || o.RequestedAt >= since);
    }
}
