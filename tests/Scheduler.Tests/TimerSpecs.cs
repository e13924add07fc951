using MassTransit;
using Treecast.Contracts;
using Treecast.Scheduler.Timers;
using Treecast.TestSupport.Harness;

namespace Treecast.Scheduler.Tests;

// Timing is only ever asserted as "fired" or "did not fire" within generous windows: CI machines are slow.
internal static class Windows
{
    /// <summary>How far ahead a timer that must not fire is due: far enough that a loaded machine handles the change first.</summary>
    public static readonly TimeSpan NotYet = TimeSpan.FromSeconds(8);
}

public sealed class When_a_timer_comes_due
{
    [Fact]
    public async Task Should_publish_TimerFired_with_its_ids()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timer = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "deadline", DateTimeOffset.UtcNow.AddMilliseconds(300));

        await scheduler.ScheduleAsync(timer);
        var fired = await scheduler.Fired.WaitForAsync(timer.TimerId, TimeSpan.FromSeconds(15));

        Assert.NotNull(fired);
        Assert.Equal(timer.CorrelationId, fired.CorrelationId);
        Assert.Equal("deadline", fired.Purpose);
        Assert.Equal(timer.FireAt, fired.ScheduledFor);
        Assert.True(fired.FiredAt >= fired.ScheduledFor.AddMilliseconds(-50), "a timer must not fire early");
        Assert.Empty(await scheduler.Store.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Should_fire_only_once()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timer = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "deadline", DateTimeOffset.UtcNow.AddMilliseconds(200));

        await scheduler.ScheduleAsync(timer);
        Assert.NotNull(await scheduler.Fired.WaitForAsync(timer.TimerId, TimeSpan.FromSeconds(15)));
        await Task.Delay(1000);

        Assert.Single(scheduler.Fired.For(timer.TimerId));
    }
}

public sealed class When_the_fire_time_has_already_passed
{
    [Fact]
    public async Task Should_fire_at_once()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timer = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "deadline", DateTimeOffset.UtcNow.AddHours(-1));

        await scheduler.ScheduleAsync(timer);

        var fired = await scheduler.Fired.WaitForAsync(timer.TimerId, TimeSpan.FromSeconds(10));
        Assert.NotNull(fired);
        Assert.Equal(timer.FireAt, fired.ScheduledFor);
    }
}

public sealed class When_a_timer_is_cancelled
{
    [Fact]
    public async Task Should_never_fire()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var now = DateTimeOffset.UtcNow;
        // Due late enough that the cancel lands first on a loaded machine, or the test would prove nothing.
        var cancelled = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "deadline", now.Add(Windows.NotYet));

        // A timer due after the cancelled one proves the scheduler was firing timers all along.
        var witness = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "witness", now.Add(Windows.NotYet).AddSeconds(1));

        await scheduler.ScheduleAsync(cancelled);
        await scheduler.ScheduleAsync(witness);
        Assert.True(await scheduler.Harness.Consumed.ShowsAsync<ScheduleTimer>(m => m.TimerId == cancelled.TimerId));
        await scheduler.CancelAsync(cancelled.TimerId);

        Assert.NotNull(await scheduler.Fired.WaitForAsync(witness.TimerId, TimeSpan.FromSeconds(60)));
        await Task.Delay(1000);
        Assert.Empty(scheduler.Fired.For(cancelled.TimerId));
        Assert.DoesNotContain(await scheduler.Store.ListAsync(CancellationToken.None), t => t.TimerId == cancelled.TimerId);
    }

    [Fact]
    public async Task Should_accept_cancelling_an_unknown_timer()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var unknown = Guid.NewGuid();

        await scheduler.CancelAsync(unknown);

        Assert.True(await scheduler.Harness.Consumed.ShowsAsync<CancelTimer>(m => m.TimerId == unknown));
        Assert.False(await scheduler.Harness.Published.Any<Fault<CancelTimer>>());
    }
}

public sealed class When_a_timer_is_rescheduled
{
    [Fact]
    public async Task Should_fire_at_the_new_time_with_the_new_details()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timerId = Guid.NewGuid();
        var first = new ScheduleTimer(timerId, Guid.NewGuid(), "first", DateTimeOffset.UtcNow.AddMinutes(30));
        var second = first with { Purpose = "second", FireAt = DateTimeOffset.UtcNow.AddMilliseconds(400) };

        await scheduler.ScheduleAsync(first);
        await scheduler.ScheduleAsync(second);

        var fired = await scheduler.Fired.WaitForAsync(timerId, TimeSpan.FromSeconds(15));
        Assert.NotNull(fired);
        Assert.Equal("second", fired.Purpose);
        Assert.Equal(second.FireAt, fired.ScheduledFor);
        await Task.Delay(500);
        Assert.Single(scheduler.Fired.For(timerId));
    }

    [Fact]
    public async Task Should_not_fire_at_the_old_time()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timerId = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var first = new ScheduleTimer(timerId, Guid.NewGuid(), "first", now.Add(Windows.NotYet));
        var later = first with { FireAt = now.AddHours(1) };
        var witness = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "witness", now.Add(Windows.NotYet).AddSeconds(1));

        await scheduler.ScheduleAsync(first);
        await scheduler.ScheduleAsync(later);
        await scheduler.ScheduleAsync(witness);

        Assert.NotNull(await scheduler.Fired.WaitForAsync(witness.TimerId, TimeSpan.FromSeconds(60)));
        await Task.Delay(500);
        Assert.Empty(scheduler.Fired.For(timerId));
        Assert.Contains(await scheduler.Store.ListAsync(CancellationToken.None), t => t.TimerId == timerId && t.FireAt == later.FireAt);
    }
}

public sealed class When_the_scheduler_restarts_with_pending_timers
{
    [Fact]
    public async Task Should_fire_the_timers_the_store_holds()
    {
        var store = new InMemoryTimerStore();
        var overdue = new PendingTimer(Guid.NewGuid(), Guid.NewGuid(), "overdue", DateTimeOffset.UtcNow.AddMinutes(-10));
        var upcoming = new PendingTimer(Guid.NewGuid(), Guid.NewGuid(), "upcoming", DateTimeOffset.UtcNow.AddMilliseconds(500));
        await store.SaveAsync(overdue, CancellationToken.None);
        await store.SaveAsync(upcoming, CancellationToken.None);

        await using var scheduler = await SchedulerHost.StartAsync(store);

        var firedOverdue = await scheduler.Fired.WaitForAsync(overdue.TimerId, TimeSpan.FromSeconds(15));
        var firedUpcoming = await scheduler.Fired.WaitForAsync(upcoming.TimerId, TimeSpan.FromSeconds(15));
        Assert.NotNull(firedOverdue);
        Assert.Equal(overdue.CorrelationId, firedOverdue.CorrelationId);
        Assert.NotNull(firedUpcoming);
        Assert.Equal("upcoming", firedUpcoming.Purpose);
        Assert.Empty(await store.ListAsync(CancellationToken.None));
    }
}

public sealed class When_a_timer_request_is_invalid
{
    [Fact]
    public async Task Should_reject_a_missing_fire_time_to_the_error_queue()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timer = new ScheduleTimer(Guid.NewGuid(), Guid.NewGuid(), "deadline", default);

        await scheduler.ScheduleAsync(timer);

        Assert.True(await scheduler.Harness.Published.ShowsAsync<Fault<ScheduleTimer>>(f => f.Message.TimerId == timer.TimerId));
        Assert.Empty(await scheduler.Store.ListAsync(CancellationToken.None));
        Assert.Null(await scheduler.Fired.WaitForAsync(timer.TimerId, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Should_reject_an_empty_timer_id()
    {
        await using var scheduler = await SchedulerHost.StartAsync();
        var timer = new ScheduleTimer(Guid.Empty, Guid.NewGuid(), "deadline", DateTimeOffset.UtcNow);

        await scheduler.ScheduleAsync(timer);

        Assert.True(await scheduler.Harness.Published.ShowsAsync<Fault<ScheduleTimer>>(f => f.Message.CorrelationId == timer.CorrelationId));
        Assert.Empty(await scheduler.Store.ListAsync(CancellationToken.None));
    }
}
