using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Treecast.Contracts;
using Treecast.Security;
using Treecast.TestSupport;
using Treecast.TestSupport.Network;
using Treecast.TestSupport.Processes;

namespace Treecast.Fault.Tests.Fleet;

/// <summary>
/// Six agents, topology, scheduler and policy as separate OS processes on a RabbitMQ node of the suite's own (the
/// suite stops and starts it), plus the test's observer on the bus. The root has one VM; every agent's uplink is
/// limited so that a transfer lasts long enough to hit it in the middle. The tree (fan-out 2, one rack) is
/// host-01 → host-02, host-03; host-02 → host-04, host-05; host-03 → host-06. host-05's parent reaches it through
/// a <see cref="ChaosProxy"/> that can corrupt a chunk on the wire. Agents speak mutual TLS with certificates made in
/// the fleet's directory. Derived fleets choose the stores.
/// </summary>
public abstract class FaultFleet : IAsyncLifetime
{
    public const string Root = "host-01";

    /// <summary>The agent behind the chaos proxy.</summary>
    public const string Corruptible = "host-05";

    /// <summary>The policy service's API key in this fleet (<c>Api__Keys__faults</c>): a cancel over HTTP needs one.</summary>
    private const string OperatorKey = "fault-suite-operator-key-0123456789";

    /// <summary>The root's one VM (<c>TREECAST_FAULTS_IMAGE_MIB</c> overrides, for a longer measured run).</summary>
    public static int ImageMiB { get; } = Setting("TREECAST_FAULTS_IMAGE_MIB", 96);

    /// <summary>
    /// Each agent's send limit (<c>TREECAST_FAULTS_SEND_MIB_PER_SECOND</c> overrides): with one VM of
    /// <see cref="ImageMiB"/>, a hop lasts several seconds, long enough to hit it in the middle.
    /// </summary>
    public static int SendMiBPerSecond { get; } = Setting("TREECAST_FAULTS_SEND_MIB_PER_SECOND", 24);

    public static readonly string[] Agents = ["host-01", "host-02", "host-03", "host-04", "host-05", "host-06"];

    private readonly PrivateRabbitMqNode _broker = new();
    private readonly Dictionary<string, Dictionary<string, string>> _agentEnvironments = [];
    private readonly Dictionary<string, ServiceProcess> _agents = [];
    private FleetProcesses? _processes;
    private BusObserver? _observer;
    private Dictionary<string, string>? _policyEnvironment;
    private ServiceProcess? _policy;

    public string? Unavailable { get; private set; }

    /// <summary>"in-memory" or "MongoDB": what the services keep their state in.</summary>
    public abstract string Stores { get; }

    public ChaosProxy? Proxy { get; private set; }

    public BusObserver Observer => _observer ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);

    public PrivateRabbitMqNode Broker => _broker;

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        var storeProblem = await PrepareStoresAsync();
        if (_broker.Unavailable is not null || storeProblem is not null)
        {
            Unavailable = string.Join("; ", new[] { _broker.Unavailable, storeProblem }.Where(p => p is not null));
            return;
        }

        var broker = _broker.Uri!;
        _processes = new FleetProcesses("treecast-faults-");
        _observer = await BusObserver.StartAsync(broker, "faults-observer-", Logs, Agents);
        var policies = await _processes.WritePoliciesAsync("""
            policies:
              - name: broadcast-on-degraded-host
                on:
                  type: host.degraded
                  match: { severity: critical }
                actions:
                  - broadcast: { fanOut: 2, chunkSizeKiB: 1024 }
              - name: striped-broadcast-on-degraded-host
                on:
                  type: host.degraded
                  match: { severity: major }
                actions:
                  - broadcast: { stripes: 2, fanOut: 2, chunkSizeKiB: 1024 }
              - name: duplicate-stragglers
                on:
                  type: workload.started
                actions:
                  - duplicateIfNotCompletedWithin: { deadline: 5s, fanOut: 2, chunkSizeKiB: 1024 }
            """);

        // Each service logs in as the broker user of its role; the observer above keeps the test's own account.
        var accounts = await _broker.CreateAccountsAsync(Agents);
        // An agent restarted on a loaded machine can take several seconds to beat again: judged lost after ten missed
        // heartbeats, not three, so the restart scenario tests resuming, not the race with the liveness check. A killed
        // relay is noticed sooner anyway, by its children (Agent:ParentGracePeriod).
        _processes.Start(
            "topology",
            "Topology",
            WithStore(new Dictionary<string, string>(FleetProcesses.BusEnvironment(accounts.TopologyUri)) { ["Topology__MissedHeartbeatsBeforeLost"] = "10" }, "topology"));
        _processes.Start("scheduler", "Scheduler", WithStore(FleetProcesses.BusEnvironment(accounts.SchedulerUri), "scheduler"));
        _policyEnvironment = WithStore(
            new Dictionary<string, string>(FleetProcesses.BusEnvironment(accounts.PolicyUri)) { ["Policy__PoliciesPath"] = policies, ["Api__Keys__faults"] = OperatorKey },
            "policy");
        StartPolicy();
        foreach (var vmmId in Agents)
        {
            var environment = AgentEnvironment(FleetProcesses.AgentBusEnvironment(accounts, vmmId), vmmId);
            _agentEnvironments[vmmId] = environment;
            _agents[vmmId] = _processes.Start(vmmId, "Agent", environment);
        }

        await _observer.WaitForRegistrationsAsync(Agents, TimeSpan.FromMinutes(2));
        await _observer.WaitForConsumerAsync(Addresses.PolicyExternalEventsQueue, TimeSpan.FromMinutes(1));
    }

    public void Require() => Skip.If(Unavailable is not null, Unavailable);

    /// <summary>The credentials <paramref name="vmmId"/>'s process runs with (its certificate and key, the fleet's CA bundle).</summary>
    public AgentCredentials CredentialsOf(string vmmId) => Processes.CredentialsOf(vmmId);

    /// <summary>The agent's work directory: its VMs, spools and receive state.</summary>
    public string WorkDirectory(string vmmId) => Path.Combine(Processes.WorkDirectory, vmmId);

    /// <summary>Starts a broadcast from the root, as monitoring would, and returns its request.</summary>
    /// <summary>Starts a broadcast (in two stripes with <paramref name="striped"/>) by an external event naming the root.</summary>
    public async Task<BroadcastRequested> StartBroadcastAsync(string eventId, bool striped = false)
    {
        await PublishDegradedAsync(eventId, striped ? "major" : "critical");
        return await Observer.WaitFor<BroadcastRequested>(
            r => r.Mode == BroadcastMode.Broadcast && r.Reason.Contains(eventId, StringComparison.Ordinal),
            TimeSpan.FromMinutes(1));
    }

    public Task PublishDegradedAsync(string eventId, string severity = "critical") =>
        Observer.PublishExternalJsonAsync($$"""{"type":"host.degraded","eventId":"{{eventId}}","vmm":"{{Root}}","severity":"{{severity}}"}""");

    /// <summary>Waits until <paramref name="vmmId"/> holds at least a third of the operation's bytes.</summary>
    public Task<TransferProgressed> ThirdReceivedAsync(Guid operationId, string vmmId) =>
        Observer.WaitFor<TransferProgressed>(
            p => p.OperationId == operationId && p.VmmId == vmmId && p.TotalBytes > 0 && p.BytesReceived * 3 >= p.TotalBytes,
            TimeSpan.FromMinutes(3));

    public Task<BroadcastOperationFinished> FinishedAsync(Guid operationId) =>
        Observer.WaitFor<BroadcastOperationFinished>(f => f.OperationId == operationId, TimeSpan.FromMinutes(5));

    /// <summary>Kills an agent as a crash or an OOM kill would (SIGKILL, no shutdown).</summary>
    public async Task KillAgentAsync(string vmmId)
    {
        await Processes.KillAsync(_agents[vmmId]);
        _agents.Remove(vmmId);
    }

    /// <summary>Starts an agent again with the same id, work directory and ports.</summary>
    public void RestartAgent(string vmmId) => _agents[vmmId] = Processes.Start(vmmId, "Agent", _agentEnvironments[vmmId]);

    public async Task KillPolicyAsync()
    {
        await Processes.KillAsync(_policy ?? throw new InvalidOperationException("the policy service is not running"));
        _policy = null;
    }

    public void StartPolicy() => _policy = Processes.Start("policy", "Policy", _policyEnvironment!);

    /// <summary>Asks the policy service over HTTP to cancel an operation, as an operator would.</summary>
    public async Task<HttpResponseMessage> CancelAsync(Guid operationId, string requestedBy, string reason)
    {
        using var http = new HttpClient { BaseAddress = await PolicyAddressAsync(), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);
        return await http.PostAsJsonAsync($"/operations/{operationId}/cancel", new { requestedBy, reason });
    }

    public string Logs() => _processes?.Logs() ?? string.Empty;

    /// <summary>What a running agent logged containing <paramref name="text"/> (its recent lines only).</summary>
    public IReadOnlyList<string> AgentLinesWith(string vmmId, string text) =>
        _agents.TryGetValue(vmmId, out var agent) ? agent.LinesWith(text) : [];

    /// <summary>True while every service process the fleet started is still running.</summary>
    public bool AllRunning => Processes.AllRunning;

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

        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await DisposeStoresAsync();
        await _broker.DisposeAsync();
    }

    /// <summary>Makes the stores ready; returns why they cannot be, or null.</summary>
    protected abstract Task<string?> PrepareStoresAsync();

    /// <summary>The environment a service needs for its store (nothing for the in-memory stores).</summary>
    protected abstract IReadOnlyDictionary<string, string> StoreEnvironment(string service);

    protected abstract Task DisposeStoresAsync();

    private FleetProcesses Processes => _processes ?? throw new InvalidOperationException("the fleet is unavailable: " + Unavailable);

    private Dictionary<string, string> WithStore(Dictionary<string, string> environment, string service)
    {
        foreach (var (key, value) in StoreEnvironment(service))
        {
            environment[key] = value;
        }

        return environment;
    }

    private Dictionary<string, string> AgentEnvironment(Dictionary<string, string> bus, string vmmId)
    {
        var grpcPort = LoopbackPort.Free();
        var environment = new Dictionary<string, string>(Processes.TlsEnvironment(vmmId).Concat(bus))
        {
            ["Agent__VmmId"] = vmmId,
            ["Agent__Location"] = "site-1/pod-1/rack-1",
            ["Agent__GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            ["Agent__VmCount"] = vmmId == Root ? "1" : "0",
            ["Agent__ImageMiB"] = ImageMiB.ToString(CultureInfo.InvariantCulture),
            ["Agent__WorkDirectory"] = WorkDirectory(vmmId),
            ["Agent__HeartbeatInterval"] = "00:00:01",
            ["Agent__MaxSendMiBPerSecond"] = SendMiBPerSecond.ToString(CultureInfo.InvariantCulture),
            // The production default: longer than a forwarder's longest wait between reconnects (4 s), so a parent that
            // reconnects to a restarted child on a loaded machine is not taken for dead just before it does.
            ["Agent__ParentGracePeriod"] = "00:00:10",
        };
        if (vmmId == Corruptible)
        {
            Proxy = new ChaosProxy(grpcPort);
            environment["Agent__AdvertisedPort"] = Proxy.Port.ToString(CultureInfo.InvariantCulture);
        }

        return environment;
    }

    private async Task<Uri> PolicyAddressAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            if (_policy?.ListeningAddress() is { } address)
            {
                return address;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the policy service does not listen\n{Logs()}");
            }

            await Task.Delay(100);
        }
    }

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var value) && value > 0 ? value : fallback;
}
