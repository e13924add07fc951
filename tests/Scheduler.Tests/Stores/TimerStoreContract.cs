using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler.Tests.Stores;

/// <summary>What every timer store must do, asserted the same way against each. A subclass names the store.</summary>
public abstract class TimerStoreContract
{
    protected static readonly DateTimeOffset At = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    /// <summary>An empty store; skips the test, with the reason, when the store is not reachable here.</summary>
    protected abstract ITimerStore CreateStore();

    [SkippableFact]
    public async Task A_saved_timer_is_listed_as_saved()
    {
        var store = CreateStore();
        var timer = Timer("deadline", At);

        await store.SaveAsync(timer, CancellationToken.None);

        Assert.Equal([timer], await store.ListAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task Saving_the_same_id_again_replaces_the_timer()
    {
        var store = CreateStore();
        var first = Timer("deadline", At);
        var later = first with { Purpose = "deadline (extended)", FireAt = At.AddMinutes(5) };

        await store.SaveAsync(first, CancellationToken.None);
        await store.SaveAsync(later, CancellationToken.None);

        Assert.Equal([later], await store.ListAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task Removing_forgets_the_timer_and_says_whether_there_was_one()
    {
        var store = CreateStore();
        var timer = Timer("deadline", At);
        await store.SaveAsync(timer, CancellationToken.None);

        Assert.True(await store.RemoveAsync(timer.TimerId, CancellationToken.None));
        Assert.False(await store.RemoveAsync(timer.TimerId, CancellationToken.None));
        Assert.Empty(await store.ListAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_fired_timer_is_removed_only_if_it_was_not_rescheduled_meanwhile()
    {
        var store = CreateStore();
        var fired = Timer("deadline", At);
        var rescheduled = fired with { FireAt = At.AddMinutes(1) };
        await store.SaveAsync(fired, CancellationToken.None);
        await store.SaveAsync(rescheduled, CancellationToken.None);

        Assert.False(await store.RemoveFiredAsync(fired, CancellationToken.None));
        Assert.Equal([rescheduled], await store.ListAsync(CancellationToken.None));

        Assert.True(await store.RemoveFiredAsync(rescheduled, CancellationToken.None));
        Assert.Empty(await store.ListAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task Keeps_every_pending_timer()
    {
        var store = CreateStore();
        var timers = Enumerable.Range(0, 5).Select(i => Timer($"step-{i}", At.AddSeconds(i))).ToList();
        foreach (var timer in timers)
        {
            await store.SaveAsync(timer, CancellationToken.None);
        }

        var listed = await store.ListAsync(CancellationToken.None);

        Assert.Equal(timers.OrderBy(t => t.TimerId), listed.OrderBy(t => t.TimerId));
    }

    protected static PendingTimer Timer(string purpose, DateTimeOffset fireAt) =>
        new(Guid.NewGuid(), Guid.NewGuid(), purpose, fireAt);
}
