using MassTransit;
using Treecast.Contracts;

namespace Treecast.Scheduler.Timers;

/// <summary>Disarms and forgets a timer; cancelling an unknown or already fired timer is not an error.</summary>
public sealed class CancelTimerConsumer(
    ITimerStore store,
    QuartzTimers timers,
    ILogger<CancelTimerConsumer> logger) : IConsumer<CancelTimer>
{
    public async Task Consume(ConsumeContext<CancelTimer> context)
    {
        var timerId = context.Message.TimerId;

        // Disarm first: a timer left armed but forgotten could still fire; one forgotten late cannot.
        var armed = await timers.DisarmAsync(timerId, context.CancellationToken);
        var stored = await store.RemoveAsync(timerId, context.CancellationToken);

        if (armed || stored)
        {
            logger.LogInformation("Cancelled timer {TimerId}", timerId);
        }
        else
        {
            logger.LogInformation("Cancel of timer {TimerId} ignored: it is not pending (fired, cancelled or never scheduled)", timerId);
        }
    }
}
