using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Persistence;

namespace Treecast.Topology.Registry;

/// <summary>
/// The registry in the topology service's MongoDB database (collection <c>vmms</c>): a restarted topology
/// service still knows every VMM, lost ones included, and recognises a returning one.
/// </summary>
public sealed class MongoVmmRegistry : IVmmRegistry
{
    public const string CollectionName = "vmms";

    private readonly IMongoCollection<StoredVmm> _vmms;

    public MongoVmmRegistry(IMongoDatabase database)
    {
        _vmms = database.GetTreecastCollection<StoredVmm>(CollectionName);
    }

    public async Task<HeartbeatOutcome> RecordHeartbeatAsync(VmmHeartbeat heartbeat, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        var entry = RegisteredVmm.FromHeartbeat(heartbeat, receivedAt);

        // One atomic replace that hands back what it replaced: concurrent heartbeats of one VMM (redeliveries,
        // several consumers) each see a consistent "before", as the in-memory registry's lock gives.
        var previous = await _vmms.FindOneAndReplaceAsync(
            Builders<StoredVmm>.Filter.Eq(v => v.VmmId, entry.VmmId),
            StoredVmm.From(entry),
            new FindOneAndReplaceOptions<StoredVmm> { IsUpsert = true, ReturnDocument = ReturnDocument.Before },
            cancellationToken).ConfigureAwait(false);

        return entry.OutcomeOver(previous?.ToRegisteredVmm());
    }

    public Task<IReadOnlyList<RegisteredVmm>> ListAsync(CancellationToken cancellationToken) =>
        ListAsync(Builders<StoredVmm>.Filter.Empty, cancellationToken);

    public Task<IReadOnlyList<RegisteredVmm>> ListLiveAsync(CancellationToken cancellationToken) =>
        ListAsync(Builders<StoredVmm>.Filter.Eq(v => v.IsLost, false), cancellationToken);

    public async Task<RegisteredVmm?> FindAsync(string vmmId, CancellationToken cancellationToken)
    {
        var stored = await _vmms.Find(v => v.VmmId == vmmId).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return stored?.ToRegisteredVmm();
    }

    public async Task<RegisteredVmm?> MarkLostAsync(string vmmId, DateTimeOffset lastSeenAt, CancellationToken cancellationToken)
    {
        // The compare-and-set runs on the server: a heartbeat that replaced the document since the liveness
        // check read it no longer matches, so the VMM stays live.
        var filter = Builders<StoredVmm>.Filter.Eq(v => v.VmmId, vmmId)
            & Builders<StoredVmm>.Filter.Eq(v => v.IsLost, false)
            & Builders<StoredVmm>.Filter.Eq(v => v.LastSeenUtcTicks, lastSeenAt.UtcTicks);
        var lost = await _vmms.FindOneAndUpdateAsync(
            filter,
            Builders<StoredVmm>.Update.Set(v => v.IsLost, true),
            new FindOneAndUpdateOptions<StoredVmm> { ReturnDocument = ReturnDocument.After },
            cancellationToken).ConfigureAwait(false);
        return lost?.ToRegisteredVmm();
    }

    private async Task<IReadOnlyList<RegisteredVmm>> ListAsync(FilterDefinition<StoredVmm> filter, CancellationToken cancellationToken)
    {
        // Sorted on the server by _id: binary order of the ids, which is the ordinal order the in-memory registry uses.
        var stored = await _vmms.Find(filter)
            .Sort(Builders<StoredVmm>.Sort.Ascending(v => v.VmmId))
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return stored.Select(v => v.ToRegisteredVmm()).ToList();
    }
}
