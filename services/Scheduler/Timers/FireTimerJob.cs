using MassTransit;
using Quartz;
using Treecast.Contracts;

namespace Treecast.Scheduler.Timers;

/// <summary>Runs when a timer's trigger fires: publishes <see cref="TimerFired"/> and forgets the timer.</summary>
public sealed class FireTimerJob(
    IBus bus,
    ITimerStore store,
    TimeProvider timeProvider,
    ILogger<FireTimerJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var timer = QuartzTimers.ReadTimer(context.MergedJobDataMap);
        var firedAt = timeProvider.GetUtcNow();

        // Publish before forgetting: a crash in between fires the timer again after a restart, which
        // consumers tolerate; the other order could lose a deadline.
        await bus.Publish(
            new TimerFired(timer.TimerId, timer.CorrelationId, timer.Purpose, timer.FireAt, firedAt),
            cancellationToken);
        await store.RemoveFiredAsync(timer, cancellationToken);

        logger.LogInformation(
            "Fired timer {TimerId} ({Purpose}) for {CorrelationId}: scheduled for {ScheduledFor:O}, fired at {FiredAt:O}",
            timer.TimerId,
            timer.Purpose,
            timer.CorrelationId,
            timer.FireAt,
            firedAt);
    }
}
