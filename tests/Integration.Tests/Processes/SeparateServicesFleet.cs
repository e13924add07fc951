using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Treecast.Contracts;
using Treecast.TestSupport;

namespace Treecast.Integration.Tests.Processes;

/// <summary>
/// The four services as separate OS processes on a real RabbitMQ broker: topology, scheduler, policy and
/// three agents in two racks, plus an observer bus in the test that sees what they publish.
/// </summary>
public sealed class SeparateServicesFleet : IAsyncLifetime
{
    public static readonly string[] Agents = ["host-01", "host-02", "host-03"];

    private readonly RabbitMqBroker _broker = new();
    private readonly List<ServiceProcess> _processes = [];
    private readonly ConcurrentDictionary<string, byte> _registered = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<BroadcastOperationFinished>> _finished = new();
    private readonly ConcurrentQueue<BroadcastRequested> _requested = new();
    private readonly TaskCompletionSource _allRegistered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServiceProvider? _observer;
    private string? _workDirectory;

    public string? Unavailable { get; private set; }

    public Uri? BrokerUri { get; private set; }

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        if (_broker.Uri is null)
        {
            Unavailable = _broker.Unavailable;
            return;
        }

        BrokerUri = _broker.Uri;
        _workDirectory = Directory.CreateTempSubdirectory("treecast-it-").FullName;
        await StartObserverAsync(BrokerUri);

        var policies = Path.Combine(_workDirectory, "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "fleet.yaml"), """
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

        var bus = new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMqUri"] = BrokerUri.ToString(),
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Information",
        };
        Start("topology", "Topology", bus);
        Start("scheduler", "Scheduler", bus);
        Start("policy", "Policy", new Dictionary<string, string>(bus) { ["Policy__PoliciesPath"] = policies });
        for (var i = 0; i < Agents.Length; i++)
        {
            Start(Agents[i], "Agent", new Dictionary<string, string>(bus)
            {
                ["Agent__VmmId"] = Agents[i],
                ["Agent__Location"] = i < 2 ? "site-1/pod-1/rack-1" : "site-1/pod-1/rack-2",
                ["Agent__GrpcPort"] = "0",
                ["Agent__VmCount"] = i == 0 ? "2" : "0",
                ["Agent__ImageMiB"] = "4",
                ["Agent__WorkDirectory"] = Path.Combine(_workDirectory, Agents[i]),
                ["Agent__HeartbeatInterval"] = "00:00:01",
            });
        }

        try
        {
            await _allRegistered.Task.WaitAsync(TimeSpan.FromSeconds(90));
            await WaitForExternalEventQueueAsync(BrokerUri, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the fleet did not come up: {_registered.Count} of {Agents.Length} VMMs registered\n{Logs()}");
        }
    }

    public void Require() => Skip.If(Unavailable is not null, Unavailable);

    /// <summary>Publishes plain JSON, as a monitoring system does, to the documented exchange.</summary>
    public async Task PublishExternalJsonAsync(string json)
    {
        var factory = new ConnectionFactory { Uri = BrokerUri! };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
        await channel.BasicPublishAsync(Addresses.ExternalEventsExchange, string.Empty, false, properties, Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Waits for the next operation started from <paramref name="rootVmmId"/> in <paramref name="mode"/> and its outcome.</summary>
    public async Task<BroadcastOperationFinished> NextOutcomeAsync(string rootVmmId, BroadcastMode mode, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var requested = _requested.FirstOrDefault(r => r.RootVmmId == rootVmmId && r.Mode == mode);
                if (requested is not null)
                {
                    return await Outcome(requested.OperationId).Task.WaitAsync(timeout.Token);
                }

                await Task.Delay(100, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {mode} outcome from {rootVmmId} within {within}\n{Logs()}");
        }
    }

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

        await _broker.DisposeAsync();
        if (_workDirectory is not null)
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
    }

    private TaskCompletionSource<BroadcastOperationFinished> Outcome(Guid operationId) =>
        _finished.GetOrAdd(operationId, _ => new TaskCompletionSource<BroadcastOperationFinished>(TaskCreationOptions.RunContinuationsAsynchronously));

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
                cfg.ReceiveEndpoint("integration-observer-" + Guid.NewGuid().ToString("N")[..8], e =>
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
                    e.Handler<BroadcastRequested>(c =>
                    {
                        _requested.Enqueue(c.Message);
                        return Task.CompletedTask;
                    });
                    e.Handler<BroadcastOperationFinished>(c =>
                    {
                        Outcome(c.Message.OperationId).TrySetResult(c.Message);
                        return Task.CompletedTask;
                    });
                });
            });
        });
        _observer = services.BuildServiceProvider();
        await _observer.GetRequiredService<IBusControl>().StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
    }

    private static async Task WaitForExternalEventQueueAsync(Uri broker, TimeSpan within)
    {
        var factory = new ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            // The policy service declares and binds its queue when its bus starts; until then a
            // published event would find no queue on the fanout exchange and be dropped.
            await using var channel = await connection.CreateChannelAsync();
            try
            {
                await channel.QueueDeclarePassiveAsync(Addresses.PolicyExternalEventsQueue);
                return;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
