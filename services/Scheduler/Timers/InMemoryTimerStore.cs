using System.Collections.Concurrent;

namespace Treecast.Scheduler.Timers;

/// <summary>The embedded store: timers survive nothing but are re-armed like any other store's.</summary>
public sealed class InMemoryTimerStore : ITimerStore
{
    private readonly ConcurrentDictionary<Guid, PendingTimer> _timers = new();

    public Task SaveAsync(PendingTimer timer, CancellationToken cancellationToken)
    {
        _timers[timer.TimerId] = timer;
        return Task.CompletedTask;
    }

    public Task<bool> RemoveAsync(Guid timerId, CancellationToken cancellationToken) =>
        Task.FromResult(_timers.TryRemove(timerId, out _));

    public Task<bool> RemoveFiredAsync(PendingTimer timer, CancellationToken cancellationToken) =>
        Task.FromResult(_timers.TryRemove(new KeyValuePair<Guid, PendingTimer>(timer.TimerId, timer)));

    public Task<IReadOnlyList<PendingTimer>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PendingTimer>>([.. _timers.Values]);
}
