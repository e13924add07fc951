namespace Treecast.Scheduler.Timers;

/// <summary>
/// At startup, arms every timer the store still holds, so that timers outlive a restart when the store
/// is persistent; a timer whose time passed while the service was down fires at once.
/// </summary>
public sealed class TimerRearming(ITimerStore store, QuartzTimers timers, ILogger<TimerRearming> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var pending = await store.ListAsync(cancellationToken);
        foreach (var timer in pending)
        {
            await timers.ArmAsync(timer, cancellationToken);
        }

        logger.LogInformation("Re-armed {TimerCount} pending timers from the store", pending.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
