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
        await PublishUntilTakenAsync(new TimerFired(timer.TimerId, timer.CorrelationId, timer.Purpose, timer.FireAt, firedAt), cancellationToken);
        await store.RemoveFiredAsync(timer, cancellationToken);

        logger.LogInformation(
            "Fired timer {TimerId} ({Purpose}) for {CorrelationId}: scheduled for {ScheduledFor:O}, fired at {FiredAt:O}",
            timer.TimerId,
            timer.Purpose,
            timer.CorrelationId,
            timer.FireAt,
            firedAt);
    }

    /// <summary>
    /// A timer that falls due during a broker outage fires when the broker is back: Quartz does not run a failed job
    /// again, so the job keeps trying (the timer stays in the store meanwhile, and a stopping scheduler re-arms it at
    /// its next start).
    /// </summary>
    private async Task PublishUntilTakenAsync(TimerFired fired, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await bus.Publish(fired, cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (attempt == 1)
                {
                    logger.LogWarning(
                        "Timer {TimerId} ({Purpose}) fell due but could not be published ({Reason}); trying until the bus takes it",
                        fired.TimerId,
                        fired.Purpose,
                        e.Message);
                }
            }

            await Task.Delay(wait, timeProvider, cancellationToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }
}
