using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RabbitMQ.Client;
using Treecast.Bench.Running;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// One broadcast as a user runs it: topology, scheduler and policy (with a policy file for the strategy) in the control
/// namespace, a fresh agent per host namespace (the root with one VM of the image size, the others empty), all on the
/// run's virtual host; then a <c>host.degraded</c> event for the root, and the operation's own record read back from the
/// policy service. Everything is stopped and deleted afterwards, so the next strategy starts from empty receivers.
/// </summary>
public sealed class ShapedFleet(ShapedNetwork network, Uri broker, string certificates, bool tls, string directory)
{
    public const string RootVmmId = "host-00";

    private const int TopologyPort = 5101;
    private const int SchedulerPort = 5102;
    private const int PolicyPort = 5103;
    private const int AgentPort = 50051;
    private static readonly string[] FinalStates = ["Completed", "CompletedWithFailures", "Failed", "Cancelled", "TimedOut", "Duplicated"];
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The agent image's runtime settings, read from its Dockerfile once per fleet, not once per agent started.</summary>
    private readonly IReadOnlyDictionary<string, string> _imageEnvironment = AgentImageEnvironment.Read();

    public static string VmmId(int host) => $"host-{host:D2}";

    /// <summary>Where every process's output is kept in full, one folder per run (<c>--logs</c>); null: only the last lines.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>The services the control namespace runs, by <c>services/</c> folder.</summary>
    public static readonly string[] ControlServices = ["Topology", "Scheduler", "Policy"];

    /// <summary>The agent every host runs: <c>services/Agent</c>'s build output, or a publish of it (<see cref="ServicePublish"/>).</summary>
    public string AgentDll { get; init; } = RepositoryLayout.ServiceDll("Agent");

    /// <summary>The control services' entry assemblies (<see cref="ControlServices"/>): build outputs unless given a publish of each.</summary>
    public IReadOnlyDictionary<string, string> ControlServiceDlls { get; init; } = ControlServices.ToDictionary(s => s, RepositoryLayout.ServiceDll);

    public async Task<StrategyRun> RunAsync(BroadcastStrategy strategy, int receivers, int imageMiB, double bitsPerSecond, CancellationToken cancellationToken)
    {
        await using var resources = new RunResources();
        var runDirectory = Path.Combine(directory, $"run-{Guid.NewGuid():N}"[..16]);
        Directory.CreateDirectory(runDirectory);
        resources.OnRelease(() =>
        {
            Directory.Delete(runDirectory, recursive: true);
            return Task.CompletedTask;
        });
        var hosts = receivers + 1;
        var logs = new ConcurrentDictionary<string, ConcurrentQueue<string>>();
        var started = new ConcurrentDictionary<string, bool>();
        string? keptLogs = null;
        if (LogDirectory is not null)
        {
            keptLogs = Path.Combine(LogDirectory, $"{strategy.Name}-{receivers}-{bitsPerSecond / 1_000_000:0}");
            Directory.CreateDirectory(keptLogs);
        }

        var policies = Path.Combine(runDirectory, "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "bench.yaml"), strategy.PolicyYaml(RootVmmId, receivers), cancellationToken);
        var bus = new UriBuilder(broker) { Host = network.BridgeAddress }.Uri.ToString();
        var control = new[]
        {
            Start(resources, logs, started, keptLogs, "topology", ControlServiceDlls["Topology"], network.ControlNamespace, runDirectory, Service(bus, TopologyPort)),
            Start(resources, logs, started, keptLogs, "scheduler", ControlServiceDlls["Scheduler"], network.ControlNamespace, runDirectory, Service(bus, SchedulerPort)),
            Start(resources, logs, started, keptLogs, "policy", ControlServiceDlls["Policy"], network.ControlNamespace, runDirectory, new Dictionary<string, string>(Service(bus, PolicyPort))
            {
                ["Policy__PoliciesPath"] = policies,
                // The star at N = 15 on 50 Mbit/s takes minutes per 128 MiB: the default budget (800 s per GiB) would time it out.
                ["Policy__Timeouts__TransferPerGiB"] = "1.00:00:00",
            }),
        };

        var agents = new Process[hosts];
        for (var host = 0; host < hosts; host++)
        {
            agents[host] = Start(resources, logs, started, keptLogs, VmmId(host), AgentDll, network.HostNamespace(host), runDirectory, AgentEnvironment(host, imageMiB, runDirectory, bus));
        }

        try
        {
            await WaitUntilReadyAsync(hosts, [.. control, .. agents], started, cancellationToken);
            var sentBefore = Enumerable.Range(0, hosts).Select(network.BytesSent).ToArray();
            var cpuBefore = agents.Select(a => ProcessUsage.CpuSeconds(a.Id)).ToArray();
            await PublishDegradedAsync(cancellationToken);

            var bound = (long)imageMiB * 1024 * 1024 * 8 / bitsPerSecond;
            var operation = await WaitForOperationAsync(TimeSpan.FromSeconds((3 * receivers * bound) + 300), cancellationToken);
            var usage = Enumerable.Range(0, hosts).Select(h => (
                Sent: network.BytesSent(h) - sentBefore[h],
                Cpu: ProcessUsage.CpuSeconds(agents[h].Id) - cpuBefore[h],
                Peak: ProcessUsage.PeakResidentMiB(agents[h].Id))).ToArray();
            return OperationRecord.Read(operation, strategy, receivers, bitsPerSecond, usage);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            foreach (var (name, lines) in logs.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                Console.Error.WriteLine($"--- last lines of {name}:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}");
            }

            throw;
        }
    }

    private Dictionary<string, string> Service(string control, int port) => new()
    {
        ["Bus__Transport"] = "RabbitMq",
        ["Bus__RabbitMqUri"] = control,
        ["ASPNETCORE_URLS"] = $"http://{network.ControlAddress}:{port}",
    };

    private Dictionary<string, string> AgentEnvironment(int host, int imageMiB, string runDirectory, string control)
    {
        var vmmId = VmmId(host);
        var environment = new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMqUri"] = control,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Agent__VmmId"] = vmmId,
            // One bridge is one switch: every host in one rack.
            ["Agent__Location"] = "site-1/pod-1/rack-1",
            ["Agent__BindAddress"] = network.HostAddress(host),
            ["Agent__AdvertisedHost"] = network.HostAddress(host),
            ["Agent__GrpcPort"] = AgentPort.ToString(CultureInfo.InvariantCulture),
            ["Agent__WorkDirectory"] = Path.Combine(runDirectory, vmmId),
            ["Agent__Vmm"] = "simulated",
            ["Agent__VmCount"] = host == 0 ? "1" : "0",
            ["Agent__ImageMiB"] = imageMiB.ToString(CultureInfo.InvariantCulture),
            // Every service of the run logs in as the run's one broker user, the policy service included.
            ["Agent__CommandSender"] = broker.UserInfo.Split(':')[0],
        };
        // The image's runtime settings (its GC's gen-0 budget): the agent runs as compose deploys it.
        foreach (var (name, value) in _imageEnvironment)
        {
            environment[name] = value;
        }

        if (tls)
        {
            environment["Agent__Tls__Directory"] = Path.Combine(certificates, vmmId);
        }
        else
        {
            environment["Agent__Tls__AllowPlaintext"] = "true";
        }

        return environment;
    }

    private static Process Start(
        RunResources resources,
        ConcurrentDictionary<string, ConcurrentQueue<string>> logs,
        ConcurrentDictionary<string, bool> started,
        string? keptLogs,
        string name,
        string dll,
        string networkNamespace,
        string runDirectory,
        Dictionary<string, string> environment)
    {
        var temporary = Path.Combine(runDirectory, $"tmp-{name}");
        Directory.CreateDirectory(temporary);
        var process = ServiceProcesses.StartDll(resources, dll, environment, temporary, null, redirectOutput: true, networkNamespace);
        var lines = logs.GetOrAdd(name, _ => new ConcurrentQueue<string>());
        // One file opened for the process's whole life; closed with the run (lines read after that are only queued).
        var kept = keptLogs is null ? null : new StreamWriter(Path.Combine(keptLogs, name + ".log")) { AutoFlush = true };
        if (kept is not null)
        {
            resources.OnRelease(() =>
            {
                lock (lines)
                {
                    kept.Dispose();
                    kept = null;
                }

                return Task.CompletedTask;
            });
        }

        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (lines)
            {
                kept?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }

            // The agent's last step of starting: it called its own endpoint (and warmed its push path), or said why not.
            // Both lines are AgentNode.CallOwnEndpointAsync's; reworded there, the fleet never looks ready here and the
            // run stops after 3 minutes saying an agent did not finish starting.
            if (line.Contains("its own endpoint", StringComparison.Ordinal))
            {
                started[name] = true;
            }

            lines.Enqueue(line);
            while (lines.Count > 30 && lines.TryDequeue(out _))
            {
            }
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Until topology lists every host alive (the root with its VM), the policy service consumes external events and every
    /// agent has finished starting (its call to its own endpoint): the event then meets a fleet that was running before
    /// it, as an operator's is, not agents still compiling their start-up on the same cores as the operation.
    /// </summary>
    private async Task WaitUntilReadyAsync(int hosts, Process[] processes, ConcurrentDictionary<string, bool> started, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                // The last lines of every process are printed by the caller; a policy file the service refuses ends here too.
                throw new InvalidOperationException($"A service process exited ({exited.ExitCode}) before the fleet came up; its log is above.");
            }

            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"The fleet of {hosts} hosts did not come up within 3 minutes (topology did not list every agent alive, an agent did not finish starting, or the policy service did not start).");
            }

            try
            {
                var vmms = await Http.GetFromJsonAsync<JsonElement>($"http://{network.ControlAddress}:{TopologyPort}/vmms", cancellationToken);
                var alive = vmms.EnumerateArray().Where(v => !v.GetProperty("isLost").GetBoolean()).ToList();
                var rootReady = alive.Any(v => v.GetProperty("vmmId").GetString() == RootVmmId && v.GetProperty("vmIds").GetArrayLength() > 0);
                using var operations = await Http.GetAsync($"http://{network.ControlAddress}:{PolicyPort}/operations", cancellationToken);
                var agentsStarted = Enumerable.Range(0, hosts).All(h => started.ContainsKey(VmmId(h)));
                if (alive.Count == hosts && rootReady && agentsStarted && operations.IsSuccessStatusCode && await ExternalEventsBoundAsync(cancellationToken))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    private async Task<bool> ExternalEventsBoundAsync(CancellationToken cancellationToken)
    {
        await using var connection = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.ExchangeDeclarePassiveAsync(PolicyIngress.Exchange, cancellationToken);
            await channel.QueueDeclarePassiveAsync(PolicyIngress.Queue, cancellationToken);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return false;
        }
    }

    private async Task PublishDegradedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await new ConnectionFactory { Uri = broker }.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var body = JsonSerializer.SerializeToUtf8Bytes(new { type = "host.degraded", eventId = $"bench-{Guid.NewGuid():N}", vmm = RootVmmId, severity = "critical" });
        var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
        await channel.BasicPublishAsync(PolicyIngress.Exchange, string.Empty, mandatory: false, properties, body, cancellationToken);
    }

    /// <summary>The operation's document (<c>GET /operations/{id}</c>) once it has ended.</summary>
    private async Task<JsonElement> WaitForOperationAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var policy = $"http://{network.ControlAddress}:{PolicyPort}/operations";
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < limit)
        {
            var list = await Http.GetFromJsonAsync<JsonElement>($"{policy}?root={RootVmmId}", cancellationToken);
            var ended = list.EnumerateArray().FirstOrDefault(o => FinalStates.Contains(o.GetProperty("state").GetString()));
            if (ended.ValueKind == JsonValueKind.Object)
            {
                return await Http.GetFromJsonAsync<JsonElement>($"{policy}/{ended.GetProperty("id").GetGuid()}", cancellationToken);
            }

            await Task.Delay(250, cancellationToken);
        }

        throw new TimeoutException($"The broadcast operation had not ended after {limit.TotalSeconds:F0} s.");
    }
}
