using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Treecast.Bench.Events;
using Treecast.Bench.Running;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// <c>broadcast</c>: a broadcast operation as a user runs it, real agent processes in network namespaces whose egress
/// is shaped by <c>tc tbf</c>, for several strategies, against a raw TCP relay chain of the same bytes on the same
/// links: T/(S/B), bytes each host sent, each agent's CPU time and peak memory; a table, a JSON file and a PNG chart.
/// </summary>
public static class BroadcastCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var hosts = new Option<int[]>("--hosts") { Description = "Receivers N (N + 1 hosts with the root); repeat for several (default 7 and 15, quick 3)." };
        var mbit = new Option<int[]>("--mbit") { Description = "Every host's egress in Mbit/s (tc tbf); repeat for several (default 50 and 100, quick 200)." };
        var imageMib = new Option<int?>("--image-mib") { Description = "S: the root's one VM image in MiB (default 128, quick 8)." };
        var strategies = new Option<string?>("--strategies")
        {
            Description = "Comma-separated: star, default, f<k> (fan-out k), s<k> (k stripes), s<k>f<m>, each optionally ending in c<KiB> (chunk size, e.g. f1c256) (default star,f1,f2,f4,default; quick star,default).",
        };
        var logs = new Option<DirectoryInfo?>("--logs")
        {
            Description = "Keep every service's and agent's output, each line with the time it was read, in DIR/<strategy>-<N>-<Mbit>/<name>.log (by default only the last lines of a failed run are printed).",
        };
        var agent = new Option<string>("--agent")
        {
            Description = $"The agent the hosts run: {ServicePublish.ReadyToRun} (published as its Dockerfile does, once per run beside its build output: about 2 minutes) or {ServicePublish.Build} (the build output, compiled on first use).",
            DefaultValueFactory = _ => ServicePublish.ReadyToRun,
        };
        agent.AcceptOnlyFromAmong(ServicePublish.ReadyToRun, ServicePublish.Build);
        var services = new Option<string>("--services")
        {
            Description = $"Topology, scheduler and policy: {ServicePublish.ReadyToRun} (published as their Dockerfiles do, once per run: 5-20 s each, about 50 s from a clean build) or {ServicePublish.Build} (the build outputs, compiled on first use).",
            DefaultValueFactory = _ => ServicePublish.ReadyToRun,
        };
        services.AcceptOnlyFromAmong(ServicePublish.ReadyToRun, ServicePublish.Build);
        var plaintext = new Option<bool>("--plaintext") { Description = "Agents speak cleartext gRPC (Agent:Tls:AllowPlaintext) instead of mutual TLS." };
        var prefix = new Option<string>("--prefix")
        {
            Description = "Names of the run's namespaces, links, broker virtual host and user start with it; an earlier run's leftovers with it are removed first.",
            DefaultValueFactory = _ => "tcb",
        };
        var broker = new Option<Uri>("--rabbitmq")
        {
            Description = "The local broker (bash tools/start-rabbitmq.sh), listening on all addresses: the namespaces reach it on the bridge's address.",
            DefaultValueFactory = _ => new Uri("amqp://localhost:5672/"),
        };
        var command = new Command("broadcast", "A broadcast to N hosts in network namespaces with shaped links (tc tbf), per strategy, against a raw TCP chain: T/(S/B), bytes sent, CPU, memory.")
        {
            hosts, mbit, imageMib, strategies, plaintext, prefix, broker, logs, agent, services,
        };
        common.AddTo(command);
        command.SetAction((result, cancellationToken) =>
        {
            var quick = result.GetValue(common.Quick);
            var given = result.GetValue(hosts) ?? [];
            var rates = result.GetValue(mbit) ?? [];
            var options = new BroadcastOptions(
                given.Length > 0 ? given : quick ? [3] : [7, 15],
                rates.Length > 0 ? rates : quick ? [200] : [50, 100],
                result.GetValue(imageMib) ?? (quick ? 8 : 128),
                result.GetValue(strategies) ?? (quick ? "star,default" : "star,f1,f2,f4,default"),
                !result.GetValue(plaintext),
                result.GetRequiredValue(prefix),
                result.GetValue(logs)?.FullName,
                result.GetRequiredValue(agent),
                result.GetRequiredValue(services));
            return RunAsync(options, result.GetRequiredValue(broker), quick, common.ResultsDirectory(result), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(BroadcastOptions options, Uri broker, bool quick, string resultsDirectory, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("treecast-bench broadcast: must run as root (it creates network namespaces, a bridge and tc qdiscs, and RabbitMQ users with rabbitmqctl); run it with sudo.");
            return 2;
        }

        if (options.Validate() is { } problem)
        {
            Console.Error.WriteLine($"treecast-bench broadcast: {problem}");
            return 2;
        }

        var strategies = options.Strategies.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(BroadcastStrategy.Parse).ToList();
        var startedAt = DateTimeOffset.UtcNow;
        var loadAtStart = ProcessUsage.LoadAverage();
        await using var resources = new RunResources();
        var directory = Path.Combine(Path.GetTempPath(), "treecast-bench", $"broadcast-{options.Prefix}");
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        resources.OnRelease(() =>
        {
            Directory.Delete(directory, recursive: true);
            return Task.CompletedTask;
        });

        var hostCount = options.Hosts.Max() + 1;
        Console.Error.WriteLine($"network: {hostCount} host namespaces and a control namespace on a bridge, prefix {options.Prefix}");
        var network = await ShapedNetwork.CreateAsync(resources, options.Prefix, hostCount, cancellationToken);
        var runBroker = await RabbitMqVirtualHost.CreateWithUserAsync(
            resources, broker, $"treecast-bench-{options.Prefix}-{Guid.NewGuid():N}"[..(28 + options.Prefix.Length)], $"treecast-bench-{options.Prefix}-", cancellationToken);
        var certificates = Path.Combine(directory, "certs");
        if (options.Tls)
        {
            await CreateCertificatesAsync(network, hostCount, certificates, cancellationToken);
        }

        var agentDll = options.Agent == ServicePublish.ReadyToRun
            ? await ServicePublish.AgentAsync(cancellationToken)
            : RepositoryLayout.ServiceDll("Agent");
        var controlDlls = new Dictionary<string, string>();
        foreach (var service in ShapedFleet.ControlServices)
        {
            controlDlls[service] = options.Services == ServicePublish.ReadyToRun
                ? await ServicePublish.ControlServiceAsync(service, cancellationToken)
                : RepositoryLayout.ServiceDll(service);
        }

        var fleet = new ShapedFleet(network, runBroker, certificates, options.Tls, directory)
        {
            LogDirectory = options.LogDirectory,
            AgentDll = agentDll,
            ControlServiceDlls = controlDlls,
        };
        var configurations = new List<ShapedConfiguration>();
        foreach (var receivers in options.Hosts.Distinct().Order())
        {
            // The fastest rate first: the longest runs come last.
            foreach (var rate in options.Mbit.Distinct().OrderDescending())
            {
                await network.ShapeAsync(rate, cancellationToken);
                var bitsPerSecond = rate * 1_000_000.0;
                var bound = options.ImageMiB * 1024.0 * 1024 * 8 / bitsPerSecond;
                Console.Error.WriteLine($"{rate} Mbit/s, N = {receivers}: S/B = {bound:F1} s; raw chain");
                var raw = await RawChain.RunAsync(network, receivers + 1, options.ImageMiB * 1024L * 1024, directory, cancellationToken);
                var configuration = new ShapedConfiguration(rate, receivers, bound, raw with { RatioToBound = raw.Seconds / bound }, [], []);
                Console.Error.WriteLine($"  raw chain: {raw.Seconds:F1} s = {raw.Seconds / bound:F2} × S/B");
                foreach (var strategy in strategies)
                {
                    try
                    {
                        var run = await fleet.RunAsync(strategy, receivers, options.ImageMiB, bitsPerSecond, cancellationToken);
                        configuration.Strategies.Add(run);
                        Console.Error.WriteLine(
                            $"  {strategy.Name}: {run.State} in {run.OperationSeconds:F1} s = {run.RatioToBound:F2} × S/B (transfer {run.TransferSeconds:F1} s), "
                            + $"{(run.AllVerified ? "every copy verified" : "NOT every copy verified")}, agents {run.Agents.Sum(a => a.CpuSeconds):F0} CPU-s");
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        configuration.Failures.Add($"{strategy.Name}: {e.Message}");
                        Console.Error.WriteLine($"  {strategy.Name}: FAILED: {e.Message}");
                    }
                }

                configurations.Add(configuration);
                // After every configuration, so a run stopped later keeps what it measured.
                WriteResults(options, strategies, network, configurations, startedAt, loadAtStart, quick, resultsDirectory);
            }
        }

        BroadcastTable.Write(configurations);
        var (path, chart) = WriteResults(options, strategies, network, configurations, startedAt, loadAtStart, quick, resultsDirectory);
        AnsiConsole.MarkupLineInterpolated(
            $"[grey]S = {options.ImageMiB} MiB, agents ({options.Agent}) over {(options.Tls ? "mutual TLS" : "cleartext gRPC")}, tbf burst {ShapedNetwork.Burst}; load average {loadAtStart:F1} at start; {Machine.Current}[/]");
        AnsiConsole.MarkupLineInterpolated($"results: {path}");
        AnsiConsole.MarkupLineInterpolated($"chart: {chart}");
        var complete = configurations.All(c => c.Failures.Count == 0 && c.Strategies.All(s => s.State == "Completed" && s.AllVerified));
        return complete ? 0 : 1;
    }

    private static (string Path, string Chart) WriteResults(
        BroadcastOptions options,
        List<BroadcastStrategy> strategies,
        ShapedNetwork network,
        List<ShapedConfiguration> configurations,
        DateTimeOffset startedAt,
        double loadAtStart,
        bool quick,
        string resultsDirectory)
    {
        var path = ResultFile.Write(
            resultsDirectory,
            "broadcast",
            startedAt,
            quick,
            new
            {
                options.Hosts,
                options.Mbit,
                options.ImageMiB,
                options.Agent,
                strategies = strategies.Select(s => s.Name),
                transport = options.Tls ? "mutual TLS" : "cleartext",
                tbf = $"rate <mbit>mbit burst {ShapedNetwork.Burst} latency 100ms on every host's egress",
                layout = "one rack (site-1/pod-1/rack-1): every host on one bridge",
                network = network.ToString(),
            },
            new { loadAverageAtStart = loadAtStart, loadAverageAtEnd = ProcessUsage.LoadAverage(), configurations });
        var chart = System.IO.Path.ChangeExtension(path, ".png");
        BroadcastChart.Write(chart, configurations, options.ImageMiB, options.Tls);
        return (path, chart);
    }

    /// <summary>A CA and a certificate per agent naming its VMM id and its address, made by tools/Certs as a user makes them.</summary>
    private static async Task CreateCertificatesAsync(ShapedNetwork network, int hosts, string certificates, CancellationToken cancellationToken)
    {
        var tool = Path.Combine(RepositoryLayout.Root, "tools", "Certs", "bin", RepositoryLayout.Configuration, "net10.0", "Treecast.Certs.dll");
        if (!File.Exists(tool))
        {
            throw new FileNotFoundException($"{tool} is missing: build bench/Treecast.Bench (it builds tools/Certs) in {RepositoryLayout.Configuration} first.", tool);
        }

        List<string> arguments = [tool, "create", "--out", certificates, "--days", "2"];
        for (var host = 0; host < hosts; host++)
        {
            arguments.AddRange(["--vmm", $"{ShapedFleet.VmmId(host)}={ShapedFleet.VmmId(host)},{network.HostAddress(host)}"]);
        }

        await ShapedNetwork.RunAsync("dotnet", cancellationToken, [.. arguments]);
    }
}
