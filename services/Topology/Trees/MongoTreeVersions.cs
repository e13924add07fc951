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

    public MongoTreeVersions(IMongoDatabase database, TimeProvider time)
    {
        _trees = database.GetTreecastCollection<StoredTree>(CollectionName);
        _counter = database.GetTreecastCollection<TreeVersionCounter>(CollectionName);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    public async Task<long> NextVersionAsync(CancellationToken cancellationToken)
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
}
