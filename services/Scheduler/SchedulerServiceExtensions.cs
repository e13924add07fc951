using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;
using Quartz;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Persistence;
using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler;

public static class SchedulerServiceExtensions
{
    /// <summary>The scheduler's own MongoDB database unless <c>Mongo:Database</c> names another.</summary>
    public const string DefaultDatabase = "treecast-scheduler";

    /// <summary>Registers the scheduler service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddSchedulerService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);

        // TryAdd so that a host (or a test) can put its own store in first; then MongoDB when a connection
        // string is given (timers survive a restart), else memory (the embedded default).
        if (services.AddTreecastMongo(builder.Configuration, DefaultDatabase))
        {
            services.TryAddSingleton<ITimerStore>(provider =>
                new MongoTimerStore(provider.GetRequiredKeyedService<IMongoDatabase>(DefaultDatabase)));
        }

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
