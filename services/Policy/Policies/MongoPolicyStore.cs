using MongoDB.Driver;
using Treecast.Persistence.Bson;

namespace Treecast.Policy.Policies;

/// <summary>
/// Keeps the policy set in force in memory, as loaded from the files, and records its files in the policy
/// service's MongoDB database (collection <c>policies</c>, one document per file) so operators can see which
/// file contents are in force. The files stay the source of truth: a restart loads them again.
/// </summary>
public sealed class MongoPolicyStore : IPolicyStore
{
    public const string CollectionName = "policies";

    private readonly IMongoCollection<PolicyFileRecord> _files;
    private readonly ILogger<MongoPolicyStore> _logger;
    private readonly Lock _gate = new();
    private volatile PolicySet _current = PolicySet.Empty;
    private Task _recording = Task.CompletedTask;

    public MongoPolicyStore(IMongoDatabase database, ILogger<MongoPolicyStore> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(logger);
        TreecastBsonConventions.Register();
        _files = database.GetCollection<PolicyFileRecord>(CollectionName);
        _logger = logger;
    }

    public PolicySet Current => _current;

    public void Replace(PolicySet policies)
    {
        ArgumentNullException.ThrowIfNull(policies);

        // In force at once, whatever the database does: events are matched against the files' content, and a
        // MongoDB outage must not stop the policy service from loading or reloading its policies.
        _current = policies;

        // Recorded in the background, one set after the other, so the last set loaded is the last one written.
        lock (_gate)
        {
            _recording = RecordAfterAsync(_recording, policies);
        }
    }

    public async Task<IReadOnlyList<PolicyFileRecord>> RecordedFilesAsync(CancellationToken cancellationToken)
    {
        Task pending;
        lock (_gate)
        {
            pending = _recording;
        }

        await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _files.Find(Builders<PolicyFileRecord>.Filter.Empty)
            .Sort(Builders<PolicyFileRecord>.Sort.Ascending(f => f.File))
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task RecordAfterAsync(Task previous, PolicySet policies)
    {
        await previous.ConfigureAwait(false);
        var records = PolicyFileRecord.Of(policies);
        try
        {
            if (records.Count > 0)
            {
                var upserts = records.Select(r => new ReplaceOneModel<PolicyFileRecord>(ByFile(r.File), r) { IsUpsert = true });
                await _files.BulkWriteAsync(upserts).ConfigureAwait(false);
            }

            // Files no longer loaded (deleted or renamed) are no longer in force: their records go.
            await _files.DeleteManyAsync(Builders<PolicyFileRecord>.Filter.Nin(f => f.File, records.Select(r => r.File)))
                .ConfigureAwait(false);
            _logger.LogInformation(
                "Recorded {FileCount} policy file(s) loaded at {LoadedAt} in MongoDB collection {Collection}",
                records.Count,
                policies.LoadedAt,
                CollectionName);
        }
        catch (Exception ex) when (ex is MongoException or TimeoutException)
        {
            _logger.LogError(
                ex,
                "Could not record the {FileCount} policy file(s) loaded at {LoadedAt} in MongoDB; they are in force all the same. Check Mongo:ConnectionString and that MongoDB is up",
                records.Count,
                policies.LoadedAt);
        }
    }

    private static FilterDefinition<PolicyFileRecord> ByFile(string file) =>
        Builders<PolicyFileRecord>.Filter.Eq(f => f.File, file);
}
