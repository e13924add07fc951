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

    public IServiceProvider Services => _host.Services;

    /// <param name="yaml">The policy file in force.</param>
    /// <param name="rabbitMq">The broker to run on; the in-memory bus when null.</param>
    /// <param name="alongside">What else the host runs on the same bus (another service, a test's stand-in for one).</param>
    /// <param name="settings">More configuration, for example <c>Mongo:ConnectionString</c>.</param>
    public static async Task<PolicyServiceHost> StartAsync(
        string yaml,
        Uri? rabbitMq = null,
        Action<IHostApplicationBuilder>? alongside = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var policies = new TempPolicyDirectory();
        policies.Write("policies.yaml", yaml);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["Policy:PoliciesPath"] = policies.Path;
        builder.Configuration["Policy:WatchForChanges"] = "false";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.Configuration[key] = value;
        }

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
        alongside?.Invoke(builder);
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
