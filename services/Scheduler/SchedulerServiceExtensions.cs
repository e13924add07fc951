using Treecast.Hosting;

namespace Treecast.Scheduler;

public static class SchedulerServiceExtensions
{
    /// <summary>Registers the scheduler service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddSchedulerService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddBusParticipant(new BusParticipant("scheduler", _ => { }));
        return builder;
    }
}
