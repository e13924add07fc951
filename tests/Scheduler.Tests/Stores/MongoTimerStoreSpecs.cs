using Treecast.Contracts;
using Treecast.Scheduler.Timers;
using Treecast.TestSupport;

namespace Treecast.Scheduler.Tests.Stores;

/// <summary>
/// The timer store contract against MongoDB, plus what it is for: a restarted scheduler fires what was pending,
/// at once when its time passed while the scheduler was down. Skipped, with the reason, without a MongoDB server.
/// </summary>
public sealed class MongoTimerStoreSpecs(MongoDbServer server) : TimerStoreContract, IClassFixture<MongoDbServer>
{
    protected override ITimerStore CreateStore()
    {
        var database = server.Require();
        database.DropCollection(MongoTimerStore.CollectionName);
        return new MongoTimerStore(database);
    }

    [SkippableFact]
    public async Task A_restarted_scheduler_fires_a_timer_that_fell_due_while_it_was_down()
    {
        var store = CreateStore();
        var timerId = Guid.NewGuid();
        var correlationId = Guid.NewGuid();
        await using (var before = await SchedulerHost.StartAsync(store))
        {
            await before.ScheduleAsync(new ScheduleTimer(timerId, correlationId, "deadline", DateTimeOffset.UtcNow.AddSeconds(2)));
            Assert.True(await Eventually.TrueAsync(async () => (await store.ListAsync(CancellationToken.None)).Any(t => t.TimerId == timerId)));
        }

        // Down past the timer's time; the new process has a new store object over the same collection.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var restarted = new MongoTimerStore(server.Require());
        await using var after = await SchedulerHost.StartAsync(restarted);

        var fired = await after.Fired.WaitForAsync(timerId, TimeSpan.FromSeconds(5));
        Assert.NotNull(fired);
        Assert.Equal(correlationId, fired.CorrelationId);
        Assert.True(await Eventually.TrueAsync(async () => (await restarted.ListAsync(CancellationToken.None)).Count == 0));
    }
}
