using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Treecast.Hosting;

namespace Treecast.Policy.Tests.Support;

/// <summary>The policy service exactly as Program.cs builds it (AddPolicyService, AddTreecastBus), plus a recorder of BroadcastRequested.</summary>
public sealed class PolicyServiceHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempPolicyDirectory _policies;

    private PolicyServiceHost(IHost host, TempPolicyDirectory policies)
    {
        _host = host;
        _policies = policies;
    }

    public MessageRecorder Recorder => _host.Services.GetRequiredService<MessageRecorder>();

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    public static async Task<PolicyServiceHost> StartAsync(string yaml, Uri? rabbitMq = null)
    {
        var policies = new TempPolicyDirectory();
        policies.Write("policies.yaml", yaml);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["Policy:PoliciesPath"] = policies.Path;
        builder.Configuration["Policy:WatchForChanges"] = "false";
        if (rabbitMq is not null)
        {
            builder.Configuration["Bus:Transport"] = "RabbitMq";
            builder.Configuration["Bus:RabbitMqUri"] = rabbitMq.ToString();
        }

        builder.Services.AddSingleton<MessageRecorder>();
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        builder.AddPolicyService();
        builder.Services.AddBusParticipant(new BusParticipant(
            "policy-tests",
            x => x.AddConsumer<BroadcastRequestedRecorder>().Endpoint(e =>
            {
                e.Name = $"policy-tests-{Guid.NewGuid():N}";
                e.Temporary = true;
            })));
        builder.AddTreecastBus();

        var host = builder.Build();
        await host.StartAsync();
        return new PolicyServiceHost(host, policies);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _policies.Dispose();
    }
}
