using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests.Processes;

/// <summary>
/// The four services as separate OS processes on a real RabbitMQ broker, with the policy service keeping its
/// sagas in a real MongoDB, so the test can stop the policy service in the middle of an operation and start it
/// again. Unavailable (tests skip with the reason) unless both a broker and a MongoDB server are reachable.
/// </summary>
public sealed class PolicyRestartFleet : IAsyncLifetime
{
    public const string Root = "host-01";

    public static readonly string[] Agents = [Root, "host-02", "host-03"];

    private readonly RabbitMqBroker _broker = new();
    private readonly MongoDbServer _mongo = new();
    private FleetProcesses? _processes;
    private BusObserver? _observer;
    private Dictionary<string, string>? _policyEnvironment;

    public string? Unavailable { get; private set; }

    public ServiceProcess? Policy { get; private set; }

    /// <summary>The policy service's database (its own, dropped at the end).</summary>
    public MongoDB.Driver.IMongoDatabase Database => _mongo.Require();

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        await _mongo.InitializeAsync();
        var missing = new[] { _broker.Unavailable, _mongo.Unavailable }.Where(r => r is not null).ToList();
        if (missing.Count > 0)
        {
            Unavailable = "the policy restart test needs RabbitMQ and MongoDB: " + string.Join("; ", missing);
            return;
        }

        // MONGODB_URI set but not answering is a failure, not a skip: Require says so.
        _mongo.Require();
        var broker = _broker.Uri!;
        _processes = new FleetProcesses("treecast-restart-");
        _observer = await BusObserver.StartAsync(broker, "integration-restart-observer-", Logs);
        var policies = await _processes.WritePoliciesAsync("""
            policies:
              - name: broadcast-on-degraded-host
                on:
                  type: host.degraded
                actions:
                  - broadcast: { fanOut: 1, chunkSizeKiB: 256 }
            """);

        var accounts = await _broker.CreateAccountsAsync(Agents);
        _policyEnvironment = new Dictionary<string, string>(FleetProcesses.BusEnvironment(accounts.PolicyUri))
        {
            ["Policy__PoliciesPath"] = policies,
            ["Mongo__ConnectionString"] = _mongo.ConnectionString!,
            ["Mongo__Database"] = _mongo.DatabaseName,
        };
        _processes.Start("topology", "Topology", FleetProcesses.BusEnvironment(accounts.TopologyUri));
        _processes.Start("scheduler", "Scheduler", FleetProcesses.BusEnvironment(accounts.SchedulerUri));
        StartPolicy();
        for (var i = 0; i < Agents.Length; i++)
        {
            // A chain (fan-out 1) of large images: the transfer lasts long enough to stop the policy service in it.
            _processes.StartAgent(accounts, Agents[i], "site-1/pod-1/rack-1", vmCount: i == 0 ? 2 : 0, imageMiB: 128);
        }

        await _observer.WaitForRegistrationsAsync(Agents, TimeSpan.FromSeconds(90));
        await _observer.WaitForConsumerAsync(Addresses.PolicyExternalEventsQueue, TimeSpan.FromSeconds(60));
    }

    public void Require() => Skip.If(Unavailable is not null, Unavailable);

    /// <summary>Kills the policy service, as a crash or an OOM kill would: no graceful shutdown, messages in flight are redelivered.</summary>
    public async Task StopPolicyAsync()
    {
        var policy = Policy ?? throw new InvalidOperationException("the policy service is not running");
        await Processes.KillAsync(policy);
        Policy = null;
    }

    public void StartPolicy() => Policy = Processes.Start("policy", "Policy", _policyEnvironment!);

    /// <summary>Publishes plain JSON, as a monitoring system does, to the documented exchange.</summary>
    public Task PublishExternalJsonAsync(string json) => Observer.PublishExternalJsonAsync(json);

    /// <summary>The first message of type <typeparamref name="T"/> the observer saw that matches, waiting up to <paramref name="within"/>.</summary>
    public Task<T> NextAsync<T>(Func<T, bool> match, TimeSpan within)
        where T : class =>
        Observer.WaitFor(match, within);

    public IReadOnlyList<T> Seen<T>()
        where T : class =>
        Observer.Seen<T>();

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

        await _mongo.DisposeAsync();
        await _broker.DisposeAsync();
    }

    private FleetProcesses Processes => _processes ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);

    private BusObserver Observer => _observer ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);
}
