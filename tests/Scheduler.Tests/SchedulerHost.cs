using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Scheduler.Timers;

namespace Treecast.Scheduler.Tests;

/// <summary>
/// The scheduler service as it registers itself (real Quartz, real consumers), on the MassTransit
/// in-memory test harness instead of the production bus, in one service provider.
/// </summary>
public sealed class SchedulerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private SchedulerHost(IHost host)
    {
        _host = host;
    }

    public ITestHarness Harness => _host.Services.GetRequiredService<ITestHarness>();

    public FiredTimers Fired => _host.Services.GetRequiredService<FiredTimers>();

    public ITimerStore Store => _host.Services.GetRequiredService<ITimerStore>();

    public static async Task<SchedulerHost> StartAsync(ITimerStore? store = null)
    {
        var builder = Host.CreateApplicationBuilder();
        if (store is not null)
        {
            builder.Services.AddSingleton(store);
        }

        builder.AddSchedulerService();
        builder.Services.AddSingleton<FiredTimers>();

        var participants = builder.Services
            .Select(d => d.ImplementationInstance)
            .OfType<BusParticipant>()
            .ToList();
        builder.Services.AddMassTransitTestHarness(x =>
        {
            foreach (var participant in participants)
            {
                participant.Register(x);
            }

            x.AddConsumer<TimerFiredProbe>();
        });

        var host = builder.Build();
        await host.StartAsync();
        return new SchedulerHost(host);
    }

    public async Task ScheduleAsync(ScheduleTimer message)
    {
        var endpoint = await Harness.Bus.GetSendEndpoint(Addresses.Scheduler);
        await endpoint.Send(message);
    }

    public async Task CancelAsync(Guid timerId)
    {
        var endpoint = await Harness.Bus.GetSendEndpoint(Addresses.Scheduler);
        await endpoint.Send(new CancelTimer(timerId));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
