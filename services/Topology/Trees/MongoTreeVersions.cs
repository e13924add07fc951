using MongoDB.Bson;
using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Persistence;

namespace Treecast.Topology.Trees;

/// <summary>
/// Tree versions and trees in the topology service's MongoDB database (collection <c>trees</c>): versions keep
/// rising across restarts, so a saga never sees a restarted topology service reuse a version.
/// </summary>
public sealed class MongoTreeVersions : ITreeVersions
{
    public const string CollectionName = "trees";

    // The server error for an upsert that lost a race to insert the same _id.
    private const int DuplicateKey = 11000;

    private readonly IMongoCollection<StoredTree> _trees;
    private readonly IMongoCollection<TreeVersionCounter> _counter;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public MongoTreeVersions(IMongoDatabase database, TimeProvider time)
    {
        _trees = database.GetTreecastCollection<StoredTree>(CollectionName);
        _counter = database.GetTreecastCollection<TreeVersionCounter>(CollectionName);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    public async Task<long> NextVersionAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await IncrementAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<long> NextVersionAboveAsync(long floor, CancellationToken cancellationToken)
    {
        // Raise the counter to the floor ($max only ever raises it), then take the next version as usual: whatever
        // other processes take in between, the version taken is above both. This process's own requests take the
        // gate, so they never interleave these two writes (the test server, unlike MongoDB, can lose one of two
        // concurrent updates of a document).
        var filter = Builders<TreeVersionCounter>.Filter.Eq(c => c.CounterId, TreeVersionCounter.Id);
        var raise = Builders<TreeVersionCounter>.Update.Max(c => c.Value, floor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                await _counter.UpdateOneAsync(filter, raise, new UpdateOptions { IsUpsert = true }, cancellationToken).ConfigureAwait(false);
            }
            catch (MongoWriteException ex) when (ex.WriteError?.Category == ServerErrorCategory.DuplicateKey)
            {
                // Another process created the counter meanwhile; raise that one.
                await _counter.UpdateOneAsync(filter, raise, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            return await IncrementAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RecordAsync(VmmTree tree, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tree);
        await _trees.ReplaceOneAsync(
            Builders<StoredTree>.Filter.Eq(t => t.Version, tree.Version),
            StoredTree.From(tree, _time.GetUtcNow()),
            new ReplaceOptions { IsUpsert = true },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<VmmTree?> LatestAsync(CancellationToken cancellationToken)
    {
        // Trees only (numeric ids), never the counter; the highest version is the latest, however they were recorded.
        var latest = await _trees.Find(Builders<StoredTree>.Filter.Type("_id", BsonType.Int64))
            .Sort(Builders<StoredTree>.Sort.Descending(t => t.Version))
            .Limit(1)
            .FirstOrDefaultAsync(cancellationToken)
            .ConfigureAwait(false);
        return latest?.ToTree();
    }

    private async Task<long> IncrementAsync(CancellationToken cancellationToken)
    {
        // $inc in one findOneAndUpdate: atomic on the server, so concurrent requests (or several topology
        // processes) never get the same version.
        var filter = Builders<TreeVersionCounter>.Filter.Eq(c => c.CounterId, TreeVersionCounter.Id);
        var increment = Builders<TreeVersionCounter>.Update.Inc(c => c.Value, 1L);
        var options = new FindOneAndUpdateOptions<TreeVersionCounter> { IsUpsert = true, ReturnDocument = ReturnDocument.After };
        try
        {
            var counter = await _counter.FindOneAndUpdateAsync(filter, increment, options, cancellationToken).ConfigureAwait(false);
            return counter.Value;
        }
        catch (MongoCommandException ex) when (ex.Code == DuplicateKey)
        {
            // Two first-ever requests both tried to create the counter; the loser's retry finds it and increments.
            var counter = await _counter.FindOneAndUpdateAsync(filter, increment, options, cancellationToken).ConfigureAwait(false);
            return counter.Value;
        }
    }
}
