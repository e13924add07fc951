using MongoDB.Driver;
using Treecast.Persistence;

namespace Treecast.Policy.Workloads;

/// <summary>
/// The ledger in the policy service's MongoDB database (collection <c>workloads</c>, <c>_id</c> = workload id):
/// a restarted policy service still knows which workloads completed, as its watches (also in MongoDB) need.
/// </summary>
public sealed class MongoWorkloadLedger : IWorkloadLedger
{
    public const string CollectionName = "workloads";

    // The server error for an insert of an _id that exists.
    private const int DuplicateKey = 11000;

    private readonly IMongoCollection<WorkloadRecord> _workloads;

    public MongoWorkloadLedger(IMongoDatabase database)
    {
        _workloads = database.GetTreecastCollection<WorkloadRecord>(CollectionName);
    }

    public async Task RecordCompletionAsync(WorkloadCompletion completion, CancellationToken cancellationToken)
    {
        var record = WorkloadRecord.From(completion);

        // Every step compares on the server, so concurrent completions of one workload (redeliveries, the agent's
        // and an external system's report) leave the earliest, whatever order they are written in.
        if (await ReplaceIfEarlierAsync(record, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            // Not replaced: the workload is absent, or holds an earlier or equal completion, which the insert's
            // duplicate key tells apart.
            await _workloads.InsertOneAsync(record, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsDuplicateKey(ex))
        {
            // Present, or inserted since by a concurrent completion that may be the later one: compare once more.
            await ReplaceIfEarlierAsync(record, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<WorkloadCompletion?> FindCompletionAsync(string workloadId, CancellationToken cancellationToken)
    {
        var record = await _workloads.Find(ById(workloadId)).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return record?.ToCompletion();
    }

    private async Task<bool> ReplaceIfEarlierAsync(WorkloadRecord record, CancellationToken cancellationToken)
    {
        var replaced = await _workloads.ReplaceOneAsync(
            ById(record.WorkloadId) & Builders<WorkloadRecord>.Filter.Gt(w => w.CompletedAtUtcTicks, record.CompletedAtUtcTicks),
            record,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return replaced.MatchedCount > 0;
    }

    private static FilterDefinition<WorkloadRecord> ById(string workloadId) =>
        Builders<WorkloadRecord>.Filter.Eq(w => w.WorkloadId, workloadId);

    private static bool IsDuplicateKey(Exception ex) => ex switch
    {
        MongoWriteException write => write.WriteError?.Category == ServerErrorCategory.DuplicateKey,
        MongoCommandException command => command.Code == DuplicateKey,
        _ => false,
    };
}
