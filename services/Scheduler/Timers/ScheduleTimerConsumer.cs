using MassTransit;
using Treecast.Contracts;

namespace Treecast.Scheduler.Timers;

/// <summary>Stores and arms a timer; scheduling an id again replaces the earlier timer.</summary>
public sealed class ScheduleTimerConsumer(
    ITimerStore store,
    QuartzTimers timers,
    TimeProvider timeProvider,
    ILogger<ScheduleTimerConsumer> logger) : IConsumer<ScheduleTimer>
{
    public async Task Consume(ConsumeContext<ScheduleTimer> context)
    {
        var message = context.Message;
        var problem = Validate(message);
        if (problem is not null)
        {
            logger.LogWarning(
                "Rejected timer {TimerId} ({Purpose}) for {CorrelationId}: {Reason}",
                message.TimerId,
                message.Purpose,
                message.CorrelationId,
                problem);

            // Thrown so that MassTransit moves the message to the error queue instead of dropping it.
            throw new InvalidTimerException($"ScheduleTimer {message.TimerId} rejected: {problem}");
        }

        var timer = new PendingTimer(message.TimerId, message.CorrelationId, message.Purpose ?? string.Empty, message.FireAt);
        await store.SaveAsync(timer, context.CancellationToken);
        await timers.ArmAsync(timer, context.CancellationToken);

        logger.LogInformation(
            "Scheduled timer {TimerId} ({Purpose}) for {CorrelationId} at {FireAt:O}, in {DueIn}",
            timer.TimerId,
            timer.Purpose,
            timer.CorrelationId,
            timer.FireAt,
            timer.FireAt - timeProvider.GetUtcNow());
    }

    private static string? Validate(ScheduleTimer message)
    {
        if (message.TimerId == Guid.Empty)
        {
            return "TimerId is empty; give every timer a new Guid so that it can be cancelled or replaced";
        }

        if (message.FireAt == default)
        {
            return "FireAt is missing (the default DateTimeOffset); set the instant the timer is due";
        }

        return null;
    }
}
