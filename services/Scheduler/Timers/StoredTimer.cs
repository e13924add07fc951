using MongoDB.Bson.Serialization.Attributes;

namespace Treecast.Scheduler.Timers;

/// <summary>One pending timer as a document of the <c>timers</c> collection, keyed by timer id.</summary>
public sealed class StoredTimer
{
    [BsonId]
    public Guid TimerId { get; set; }

    public Guid CorrelationId { get; set; }

    public string Purpose { get; set; } = string.Empty;

    /// <summary>Readable (a UTC date at <c>FireAt.DateTime</c>, indexable for "what fires next") and exact.</summary>
    public DateTimeOffset FireAt { get; set; }

    /// <summary>
    /// <see cref="FireAt"/> as UTC ticks, compared by <see cref="ITimerStore.RemoveFiredAsync"/>: instants are equal
    /// whatever their offset, as <see cref="PendingTimer"/> equality has it.
    /// </summary>
    public long FireAtUtcTicks { get; set; }

    public static StoredTimer From(PendingTimer timer)
    {
        ArgumentNullException.ThrowIfNull(timer);
        return new StoredTimer
        {
            TimerId = timer.TimerId,
            CorrelationId = timer.CorrelationId,
            Purpose = timer.Purpose,
            FireAt = timer.FireAt,
            FireAtUtcTicks = timer.FireAt.UtcTicks,
        };
    }

    public PendingTimer ToPendingTimer() => new(TimerId, CorrelationId, Purpose, FireAt);
}
