using Microsoft.Extensions.DependencyInjection.Extensions;
using Quartz;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler;

public static class SchedulerServiceExtensions
{
    /// <summary>Registers the scheduler service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddSchedulerService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);

        // TryAdd so that a host (or a test) can put a persistent store in first.
        services.TryAddSingleton<ITimerStore, InMemoryTimerStore>();
        services.TryAddSingleton<QuartzTimers>();

        services.AddQuartz();
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddHostedService<TimerRearming>();

        services.AddBusParticipant(new BusParticipant("scheduler", x =>
        {
            x.AddConsumer<ScheduleTimerConsumer>().Endpoint(e => e.Name = Addresses.SchedulerQueue);
            x.AddConsumer<CancelTimerConsumer>().Endpoint(e => e.Name = Addresses.SchedulerQueue);
        }));
        return builder;
    }
}
