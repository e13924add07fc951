using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests.Processes;

/// <summary>
/// The four services as separate OS processes on a real RabbitMQ broker: topology, scheduler, policy and
/// three agents in two racks, plus an observer bus in the test that sees what they publish.
/// </summary>
public sealed class SeparateServicesFleet : IAsyncLifetime
{
    public static readonly string[] Agents = ["host-01", "host-02", "host-03"];

    private readonly RabbitMqBroker _broker = new();
    private FleetProcesses? _processes;
    private ServiceProcess? _policy;
    private readonly Dictionary<string, ServiceProcess> _agents = new(StringComparer.Ordinal);
    private ServiceProcess? _topology;
    private BrokerAccounts? _accounts;
    private BusObserver? _observer;

    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        if (_broker.Uri is null)
        {
            Unavailable = _broker.Unavailable;
            return;
        }

        var broker = _broker.Uri;
        _processes = new FleetProcesses("treecast-it-");
        _observer = await BusObserver.StartAsync(broker, "integration-observer-", Logs);
        var policies = await _processes.WritePoliciesAsync("""
            policies:
              - name: broadcast-on-degraded-host
                on:
                  type: host.degraded
                  match:
                    severity: [critical]
                actions:
                  - broadcast: { fanOut: 2, chunkSizeKiB: 256 }
              - name: duplicate-stragglers
                on:
                  type: workload.started
                actions:
                  - duplicateIfNotCompletedWithin: { deadline: 2s, fanOut: 2, chunkSizeKiB: 256 }
            """);

        // Each service logs in as the broker user of its role; the observer above keeps the test's own account.
        var accounts = _accounts = await _broker.CreateAccountsAsync(Agents);
        _topology = _processes.Start("topology", "Topology", FleetProcesses.BusEnvironment(accounts.TopologyUri));
        _processes.Start("scheduler", "Scheduler", FleetProcesses.BusEnvironment(accounts.SchedulerUri));
        _policy = _processes.Start("policy", "Policy", new Dictionary<string, string>(FleetProcesses.BusEnvironment(accounts.PolicyUri))
        {
            ["Policy__PoliciesPath"] = policies,
        });
        for (var i = 0; i < Agents.Length; i++)
        {
            _agents[Agents[i]] = _processes.StartAgent(accounts, Agents[i], i < 2 ? "site-1/pod-1/rack-1" : "site-1/pod-1/rack-2", vmCount: i == 0 ? 2 : 0, imageMiB: 4);
        }

        await _observer.WaitForRegistrationsAsync(Agents, TimeSpan.FromSeconds(90));
        await _observer.WaitForConsumerAsync(Addresses.PolicyExternalEventsQueue, TimeSpan.FromSeconds(60));
    }

    /// <summary>The policy service's HTTP address (operations API).</summary>
    public Uri PolicyUrl => _policy?.ListeningAddress() ?? throw new InvalidOperationException("the policy service has not said where it listens\n" + Logs());

    /// <summary>The topology service's HTTP address (VMM registry).</summary>
    public Uri TopologyUrl => _topology?.ListeningAddress() ?? throw new InvalidOperationException("the topology service has not said where it listens\n" + Logs());

    /// <summary>An agent's HTTP address (health, metrics).</summary>
    public Uri AgentUrl(string vmmId) => _agents[vmmId].ListeningAddress() ?? throw new InvalidOperationException($"{vmmId} has not said where it listens\n" + Logs());

    /// <summary>The broker as the monitoring account sees it: it may publish external events and nothing else.</summary>
    public Uri MonitoringUri => _accounts?.MonitoringUri ?? throw new InvalidOperationException("no broker accounts");

    public void Require() => Skip.If(Unavailable is not null, Unavailable);

    /// <summary>Publishes plain JSON, as a monitoring system does, to the documented exchange.</summary>
    public Task PublishExternalJsonAsync(string json) => Observer.PublishExternalJsonAsync(json);

    /// <summary>Waits for the next operation started from <paramref name="rootVmmId"/> in <paramref name="mode"/> and its outcome.</summary>
    public async Task<BroadcastOperationFinished> NextOutcomeAsync(string rootVmmId, BroadcastMode mode, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        try
        {
            var requested = await Observer.WaitFor<BroadcastRequested>(r => r.RootVmmId == rootVmmId && r.Mode == mode, within);
            return await Observer.WaitFor<BroadcastOperationFinished>(f => f.OperationId == requested.OperationId, deadline - DateTime.UtcNow);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no {mode} outcome from {rootVmmId} within {within}\n{Logs()}");
        }
    }

    public string Logs() => _processes?.Logs() ?? string.Empty;

    public async Task DisposeAsync()
    {
        if (_processes is not null)
        {
            await _processes.DisposeAsync();
        }

        if (_observer is not null)
        {
            await _observer.DisposeAsync();
        }

        await _broker.DisposeAsync();
    }

    private BusObserver Observer => _observer ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);
}
