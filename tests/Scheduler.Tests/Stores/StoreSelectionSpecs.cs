using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MongoDB.Driver;
using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler.Tests.Stores;

/// <summary>The scheduler picks its timer store by configuration. No server needed: nothing is read or written.</summary>
public sealed class StoreSelectionSpecs
{
    [Fact]
    public void Without_a_connection_string_timers_are_kept_in_memory()
    {
        using var host = Build([]);

        Assert.IsType<InMemoryTimerStore>(host.Services.GetRequiredService<ITimerStore>());
    }

    [Fact]
    public void With_a_connection_string_timers_are_kept_in_the_scheduler_database()
    {
        using var host = Build(new() { ["Mongo:ConnectionString"] = "mongodb://localhost:27017" });

        Assert.IsType<MongoTimerStore>(host.Services.GetRequiredService<ITimerStore>());
        Assert.Equal(
            "treecast-scheduler",
            host.Services.GetRequiredKeyedService<IMongoDatabase>(SchedulerServiceExtensions.DefaultDatabase).DatabaseNamespace.DatabaseName);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSchedulerService();
        return builder.Build();
    }
}
