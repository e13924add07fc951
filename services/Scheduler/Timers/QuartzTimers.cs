using System.Globalization;
using Quartz;

namespace Treecast.Scheduler.Timers;

/// <summary>Arms and disarms pending timers as one-shot Quartz jobs keyed by timer id.</summary>
public sealed class QuartzTimers(ISchedulerFactory schedulerFactory, TimeProvider timeProvider)
{
    public const string JobGroup = "treecast-timers";

    private const string TimerIdKey = "timerId";
    private const string CorrelationIdKey = "correlationId";
    private const string PurposeKey = "purpose";
    private const string FireAtKey = "fireAt";

    // A failed publish (broker down) is retried by Quartz rather than lost; the store keeps the timer
    // either way, so a restart re-arms it too.
    private static readonly RetryPolicy PublishRetry =
        RetryPolicy.Exponential(10, TimeSpan.FromSeconds(1), 2, TimeSpan.FromMinutes(1));

    public static JobKey JobKeyFor(Guid timerId) => new(timerId.ToString("D"), JobGroup);

    /// <summary>Arms the timer, replacing an armed timer of the same id; a time already past fires at once.</summary>
    public async Task ArmAsync(PendingTimer timer, CancellationToken cancellationToken)
    {
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var key = JobKeyFor(timer.TimerId);

        // Job data holds strings only, so a persistent Quartz job store could keep it as it is.
        var job = JobBuilder.Create<FireTimerJob>()
            .WithIdentity(key)
            .WithDescription(timer.Purpose)
            .UsingJobData(TimerIdKey, timer.TimerId.ToString("D"))
            .UsingJobData(CorrelationIdKey, timer.CorrelationId.ToString("D"))
            .UsingJobData(PurposeKey, timer.Purpose)
            .UsingJobData(FireAtKey, timer.FireAt.ToString("O", CultureInfo.InvariantCulture))
            .Build();

        var now = timeProvider.GetUtcNow();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key.Name, JobGroup)
            .ForJob(key)
            .StartAt(timer.FireAt > now ? timer.FireAt : now)
            .WithSimpleSchedule(s => s.WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .WithRetryPolicy(PublishRetry)
            .Build();

        await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }

    /// <summary>Disarms the timer; false when none was armed under that id.</summary>
    public async Task<bool> DisarmAsync(Guid timerId, CancellationToken cancellationToken)
    {
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        return await scheduler.DeleteJob(JobKeyFor(timerId), cancellationToken);
    }

    /// <summary>Reads back the timer a job was armed with.</summary>
    public static PendingTimer ReadTimer(JobDataMap data) => new(
        Guid.Parse(data.GetString(TimerIdKey)!),
        Guid.Parse(data.GetString(CorrelationIdKey)!),
        data.GetString(PurposeKey) ?? string.Empty,
        DateTimeOffset.Parse(data.GetString(FireAtKey)!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
}
