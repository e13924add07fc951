namespace Treecast.Policy.Evaluation;

/// <summary>
/// The events no policy matched: counted, and the latest <see cref="RecentCapacity"/> kept, instead of one log line each
/// (a monitoring system may send thousands a second that decide nothing). <see cref="UnmatchedEventsSummary"/> logs
/// what was counted once per interval. Safe to call from every consumer at once.
/// </summary>
public sealed class UnmatchedEvents
{
    /// <summary>How many of the latest unmatched events are kept.</summary>
    public const int RecentCapacity = 64;

    private readonly Lock _gate = new();
    private readonly UnmatchedEvent[] _recent = new UnmatchedEvent[RecentCapacity];
    private long _total;
    private int _next;
    private int _held;

    public void Record(ObservedEvent observed, DateTimeOffset observedAt)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var unmatched = new UnmatchedEvent(observed.Type, observed.Vmm, observed.EventId, observed.Describe(), observedAt);
        lock (_gate)
        {
            _total++;
            _recent[_next] = unmatched;
            _next = (_next + 1) % RecentCapacity;
            _held = Math.Min(_held + 1, RecentCapacity);
        }
    }

    /// <summary>The latest unmatched events, newest first, with the count since the service started.</summary>
    public (long Total, IReadOnlyList<UnmatchedEvent> Recent) Snapshot()
    {
        lock (_gate)
        {
            var recent = new UnmatchedEvent[_held];
            for (var i = 0; i < _held; i++)
            {
                recent[i] = _recent[(_next - 1 - i + RecentCapacity) % RecentCapacity];
            }

            return (_total, recent);
        }
    }
}

/// <summary>An event that matched no policy, as <see cref="UnmatchedEvents"/> keeps it.</summary>
/// <param name="Description">What the event was, as the operation's reason would say it: <see cref="ObservedEvent.Describe"/>.</param>
public sealed record UnmatchedEvent(string Type, string Vmm, string? EventId, string Description, DateTimeOffset ObservedAt);
