using System.Collections.Concurrent;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Treecast.Contracts;
using Treecast.TestSupport;

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
    private readonly List<ServiceProcess> _processes = [];
    private readonly ConcurrentDictionary<string, byte> _registered = new();
    private readonly ConcurrentQueue<object> _seen = new();
    private readonly TaskCompletionSource _allRegistered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServiceProvider? _observer;
    private string? _workDirectory;
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
        _workDirectory = Directory.CreateTempSubdirectory("treecast-restart-").FullName;
        await StartObserverAsync(broker);

        var policies = Path.Combine(_workDirectory, "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "fleet.yaml"), """
            policies:
              - name: broadcast-on-degraded-host
                on:
                  type: host.degraded
                actions:
                  - broadcast: { fanOut: 1, chunkSizeKiB: 256 }
            """);

        var bus = new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMqUri"] = broker.ToString(),
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Information",
        };
        _policyEnvironment = new Dictionary<string, string>(bus)
        {
            ["Policy__PoliciesPath"] = policies,
            ["Mongo__ConnectionString"] = _mongo.ConnectionString!,
            ["Mongo__Database"] = _mongo.DatabaseName,
        };
        Start("topology", "Topology", bus);
        Start("scheduler", "Scheduler", bus);
        StartPolicy();
        for (var i = 0; i < Agents.Length; i++)
        {
            // A chain (fan-out 1) of large images: the transfer lasts long enough to stop the policy service in it.
            Start(Agents[i], "Agent", new Dictionary<string, string>(bus)
            {
                ["Agent__VmmId"] = Agents[i],
                ["Agent__Location"] = "site-1/pod-1/rack-1",
                ["Agent__GrpcPort"] = "0",
                ["Agent__VmCount"] = i == 0 ? "2" : "0",
                ["Agent__ImageMiB"] = "128",
                ["Agent__WorkDirectory"] = Path.Combine(_workDirectory, Agents[i]),
                ["Agent__HeartbeatInterval"] = "00:00:01",
            });
        }

        try
        {
            await _allRegistered.Task.WaitAsync(TimeSpan.FromSeconds(90));
            await WaitForQueueAsync(broker, Addresses.PolicyExternalEventsQueue, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the fleet did not come up: {_registered.Count} of {Agents.Length} VMMs registered\n{Logs()}");
        }
    }

    public void Require() => Skip.If(Unavailable is not null, Unavailable);

    /// <summary>Kills the policy service, as a crash or an OOM kill would: no graceful shutdown, messages in flight are redelivered.</summary>
    public async Task StopPolicyAsync()
    {
        var policy = Policy ?? throw new InvalidOperationException("the policy service is not running");
        _processes.Remove(policy);
        await policy.DisposeAsync();
        Policy = null;
    }

    public void StartPolicy()
    {
        Policy = ServiceProcess.Start("policy", RepositoryLayout.ServiceDll("Policy"), _policyEnvironment!);
        _processes.Add(Policy);
    }

    /// <summary>Publishes plain JSON, as a monitoring system does, to the documented exchange.</summary>
    public async Task PublishExternalJsonAsync(string json)
    {
        var factory = new ConnectionFactory { Uri = _broker.Uri! };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
        await channel.BasicPublishAsync(Addresses.ExternalEventsExchange, string.Empty, false, properties, Encoding.UTF8.GetBytes(json));
    }

    /// <summary>The first message of type <typeparamref name="T"/> the observer saw that matches, waiting up to <paramref name="within"/>.</summary>
    public async Task<T> NextAsync<T>(Func<T, bool> match, TimeSpan within)
        where T : class
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (_seen.OfType<T>().FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no matching {typeof(T).Name} within {within}\n{Logs()}");
            }

            await Task.Delay(50);
        }
    }

    public IReadOnlyList<T> Seen<T>()
        where T : class =>
        _seen.OfType<T>().ToList();

    public string Logs() => string.Join(Environment.NewLine, _processes.Select(p => p.Tail(40)));

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (_observer is not null)
        {
            await _observer.GetRequiredService<IBusControl>().StopAsync();
            await _observer.DisposeAsync();
        }

        await _mongo.DisposeAsync();
        await _broker.DisposeAsync();
        if (_workDirectory is not null)
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
    }

    private void Start(string name, string service, IReadOnlyDictionary<string, string> environment) =>
        _processes.Add(ServiceProcess.Start(name, RepositoryLayout.ServiceDll(service), environment));

    private async Task StartObserverAsync(Uri broker)
    {
        var services = new ServiceCollection();
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.UsingRabbitMq((_, cfg) =>
            {
                cfg.Host(broker);
                cfg.ReceiveEndpoint("integration-restart-observer-" + Guid.NewGuid().ToString("N")[..8], e =>
                {
                    e.AutoDelete = true;
                    e.Durable = false;
                    e.Handler<VmmRegistered>(c =>
                    {
                        _registered.TryAdd(c.Message.VmmId, 0);
                        if (Agents.All(_registered.ContainsKey))
                        {
                            _allRegistered.TrySetResult();
                        }

                        return Task.CompletedTask;
                    });
                    e.Handler<BroadcastRequested>(Keep);
                    e.Handler<TransferProgressed>(Keep);
                    e.Handler<VmsReceived>(Keep);
                    e.Handler<BroadcastOperationFinished>(Keep);
                });
            });
        });
        _observer = services.BuildServiceProvider();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _observer.GetRequiredService<IBusControl>().StartAsync(timeout.Token);
    }

    private Task Keep<T>(ConsumeContext<T> context)
        where T : class
    {
        _seen.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    private static async Task WaitForQueueAsync(Uri broker, string queue, TimeSpan within)
    {
        var factory = new ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            // A published event finds no queue on the fanout exchange until the policy service has declared it.
            await using var channel = await connection.CreateChannelAsync();
            try
            {
                await channel.QueueDeclarePassiveAsync(queue);
                return;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
