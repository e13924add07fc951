using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Treecast.Hosting;

namespace Treecast.Policy.Tests.Support;

/// <summary>
/// The policy service as AddPolicyService wires it (consumers, the external-events endpoint, the bus-wide
/// retry of AddTreecastBus), on the MassTransit test harness.
/// </summary>
public sealed class PolicyServiceHarness : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempPolicyDirectory _policies;

    private PolicyServiceHarness(IHost host, TempPolicyDirectory policies)
    {
        _host = host;
        _policies = policies;
    }

    public ITestHarness Bus => _host.Services.GetRequiredService<ITestHarness>();

    public IServiceProvider Services => _host.Services;

    /// <summary>Attempts at each consumed message, retries included.</summary>
    public ConsumeAttempts Attempts => _host.Services.GetRequiredService<ConsumeAttempts>();

    public static async Task<PolicyServiceHarness> StartAsync(string yaml)
    {
        var policies = new TempPolicyDirectory();
        policies.Write("policies.yaml", yaml);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["Policy:PoliciesPath"] = policies.Path;
        builder.Configuration["Policy:WatchForChanges"] = "false";
        builder.AddPolicyService();

        var participant = builder.Services
            .Select(d => d.ImplementationInstance)
            .OfType<BusParticipant>()
            .Single(p => p.Name == "policy");
        builder.Services.AddSingleton<ConsumeAttempts>();
        builder.Services.AddMassTransitTestHarness(x =>
        {
            x.SetTestTimeouts(testInactivityTimeout: TimeSpan.FromSeconds(1));
            participant.Register(x);
            x.UsingInMemory((context, cfg) =>
            {
                // As AddTreecastBus does for every endpoint.
                cfg.UseMessageRetry(r =>
                {
                    r.Ignore<InvalidMessageException>();
                    r.Intervals(50, 200, 500, 1000, 2000);
                });
                cfg.UseConsumeFilter(typeof(ConsumeAttemptFilter<>), context);
                participant.ConfigureEndpoints?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });

        var host = builder.Build();
        await host.StartAsync();
        return new PolicyServiceHarness(host, policies);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _policies.Dispose();
    }
}
