namespace Treecast.Scheduler.Timers;

/// <summary>
/// Where pending timers are kept so that they outlive the process: Quartz only holds them while the
/// service runs, and they are re-armed from here at startup.
/// </summary>
public interface ITimerStore
{
    /// <summary>Stores the timer, replacing any pending timer with the same id.</summary>
    Task SaveAsync(PendingTimer timer, CancellationToken cancellationToken);

    /// <summary>Removes the timer with this id; false when there was none.</summary>
    Task<bool> RemoveAsync(Guid timerId, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the timer only if it is still exactly <paramref name="timer"/>, so a firing never erases a
    /// reschedule of the same id that arrived meanwhile.
    /// </summary>
    Task<bool> RemoveFiredAsync(PendingTimer timer, CancellationToken cancellationToken);

    Task<IReadOnlyList<PendingTimer>> ListAsync(CancellationToken cancellationToken);
}
