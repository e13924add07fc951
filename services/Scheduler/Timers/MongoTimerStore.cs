using MongoDB.Driver;
using Treecast.Persistence;

namespace Treecast.Scheduler.Timers;

/// <summary>
/// Pending timers in the scheduler's MongoDB database (collection <c>timers</c>): a restarted scheduler re-arms
/// them (<see cref="TimerRearming"/>), and one whose time passed while it was down fires at once.
/// </summary>
public sealed class MongoTimerStore : ITimerStore
{
    public const string CollectionName = "timers";

    private readonly IMongoCollection<StoredTimer> _timers;

    public MongoTimerStore(IMongoDatabase database)
    {
        _timers = database.GetTreecastCollection<StoredTimer>(CollectionName);
    }

    public Task SaveAsync(PendingTimer timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        return _timers.ReplaceOneAsync(
            ById(timer.TimerId),
            StoredTimer.From(timer),
            new ReplaceOptions { IsUpsert = true },
            cancellationToken);
    }

    public async Task<bool> RemoveAsync(Guid timerId, CancellationToken cancellationToken)
    {
        var result = await _timers.DeleteOneAsync(ById(timerId), cancellationToken).ConfigureAwait(false);
        return result.DeletedCount > 0;
    }

    public async Task<bool> RemoveFiredAsync(PendingTimer timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);

        // Every field in the filter: a reschedule of the same id saved meanwhile no longer matches and stays.
        var filter = ById(timer.TimerId)
            & Builders<StoredTimer>.Filter.Eq(t => t.CorrelationId, timer.CorrelationId)
            & Builders<StoredTimer>.Filter.Eq(t => t.Purpose, timer.Purpose)
            & Builders<StoredTimer>.Filter.Eq(t => t.FireAtUtcTicks, timer.FireAt.UtcTicks);
        var result = await _timers.DeleteOneAsync(filter, cancellationToken).ConfigureAwait(false);
        return result.DeletedCount > 0;
    }

    public async Task<IReadOnlyList<PendingTimer>> ListAsync(CancellationToken cancellationToken)
    {
        var stored = await _timers.Find(Builders<StoredTimer>.Filter.Empty)
            .Sort(Builders<StoredTimer>.Sort.Ascending(t => t.FireAtUtcTicks))
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return stored.Select(t => t.ToPendingTimer()).ToList();
    }

    private static FilterDefinition<StoredTimer> ById(Guid timerId) =>
        Builders<StoredTimer>.Filter.Eq(t => t.TimerId, timerId);
}
