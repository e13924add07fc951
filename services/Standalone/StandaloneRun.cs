using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Treecast.Agent;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Policy;
using Treecast.Scheduler;
using Treecast.Security;
using Treecast.Topology;

namespace Treecast.Standalone;

/// <summary>
/// The embedded default: composes the four services in one process on the in-memory bus, starts one
/// agent per host (each with its own gRPC server on loopback, mutual TLS with certificates made in memory), injects the event, shows progress and
/// checks the outcome against the VMMs themselves.
/// </summary>
/// <param name="display">How the run shows itself; null for timestamped lines (stderr under --json).</param>
public sealed class StandaloneRun(StandaloneOptions options, IRunDisplay? display = null)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a reason's quotes stay readable
    };

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly IRunDisplay _display = display ?? new TextRunDisplay(options.Json ? Console.Error : Console.Out);

    public async Task<int> ExecuteAsync()
    {
        if (options.IsQemu && QemuPrerequisites.Missing() is { } missing)
        {
            return Refuse($"--vmm qemu cannot run here: {missing}");
        }

        // Ctrl-C (or SIGTERM) cancels the run: the services stop, VMs and QEMU processes go, the run's files are deleted.
        using var interrupted = new CancellationTokenSource();
        PosixSignal? signal = null;
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            signal ??= context.Signal;
            interrupted.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

        string runDirectory;
        try
        {
            runDirectory = Directory.CreateTempSubdirectory("treecast-run-").FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Refuse($"cannot create the run's directory under {Path.GetTempPath()}: {ex.Message}; point TMPDIR at a writable disk");
        }

        try
        {
            return await ExecuteInAsync(runDirectory, interrupted.Token);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            Report(Ended("Cancelled", $"interrupted by {signal} before the operation finished; the run's VMs and files were removed"));
            return signal == PosixSignal.SIGTERM ? 143 : 130;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk or an unwritable temp directory: say what and where, not a stack trace.
            Report(Ended("Failed", $"{ex.Message} (the run writes its images under {runDirectory}; free space there or point TMPDIR at a larger disk)"));
            return 1;
        }
        finally
        {
            TryDelete(runDirectory);
        }
    }

    /// <summary>A run that cannot start: one line (and a Failed summary on stdout under --json), exit code 2.</summary>
    private int Refuse(string reason)
    {
        Console.Error.WriteLine($"treecast: {reason}");
        if (options.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(Ended("Failed", reason), JsonOptions));
        }

        return 2;
    }

    /// <summary>The --json summary of a command line that could not be parsed: state Failed, the reason, nothing run.</summary>
    public static string RefusedJson(string reason, bool isDeadlineRun) => JsonSerializer.Serialize(
        new RunSummary
        {
            Mode = isDeadlineRun ? "duplicate" : "broadcast",
            State = "Failed",
            Root = FleetLayout.Build(1, 1, 1)[0].VmmId,
            FailureReason = reason,
        },
        JsonOptions);

    private RunSummary Ended(string state, string reason) => new()
    {
        Mode = options.IsDeadlineRun ? "duplicate" : "broadcast",
        State = state,
        Root = FleetLayout.Build(options.Hosts, options.Racks, options.Pods)[0].VmmId,
        ElapsedMs = _clock.ElapsedMilliseconds,
        FailureReason = reason,
    };

    private async Task<int> ExecuteInAsync(string runDirectory, CancellationToken interrupted)
    {
        var fleet = FleetLayout.Build(options.Hosts, options.Racks, options.Pods);
        var root = fleet[0];
        var policiesPath = options.PoliciesPath ?? StandalonePolicies.Write(runDirectory, options);
        if (RunPreflight.Check(options, policiesPath, root.VmmId, runDirectory) is { } problem)
        {
            return Refuse(problem);
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = nameof(BusTransport.InMemory),
            ["Policy:PoliciesPath"] = policiesPath,
            ["Topology:DefaultFanOut"] = (options.FanOut ?? 0).ToString(CultureInfo.InvariantCulture),
            ["Agent:Qemu:MemoryMiB"] = options.VmMemoryMiB.ToString(CultureInfo.InvariantCulture),
        });
        builder.AddServiceDefaults();
        builder.Logging.SetMinimumLevel(options.Verbose ? LogLevel.Information : LogLevel.Warning);
        if (options.Json)
        {
            // stdout carries the one JSON summary; a warning logged during the run (a failed VMM) must not corrupt it.
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        builder.AddTopologyService();
        builder.AddPolicyService();
        builder.AddSchedulerService();
        // The policy service commands these agents from this very process: on a broker, its login is the commanding account.
        var busOptions = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();
        builder.AddAgentService(AgentHosts(fleet, runDirectory, busOptions.RabbitMqUser));
        var observer = new RunObserver(fleet.Count);
        observer.Said += Say;
        builder.Services.AddSingleton(observer);
        builder.Services.AddBusParticipant(new BusParticipant(
            "standalone",
            x => x.AddConsumer<RunObserverConsumer>().Endpoint(e => e.Name = "standalone-observer")));
        builder.AddTreecastBus();

        var host = builder.Build();
        var faults = new MessageFaults();
        var bus = host.Services.GetRequiredService<IBusControl>();
        bus.ConnectReceiveObserver(faults);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        Say(options.IsQemu
            ? $"starting {fleet.Count} hosts in {options.Racks} racks ({options.VmsPerHost} QEMU VMs of {options.VmMemoryMiB} MiB RAM on {root.VmmId})"
            : $"starting {fleet.Count} hosts in {options.Racks} racks ({options.VmsPerHost} VMs of {options.ImageMiB} MiB on {root.VmmId})");
        try
        {
            await host.StartAsync(timeout.Token);
            await observer.AllRegistered.WaitAsync(timeout.Token);
            Say($"all {fleet.Count} VMMs registered with the topology service");

            // What the run costs on a busy machine, where its wall time says little: the CPU from the event to the outcome.
            var cpuAtEvent = Environment.CpuUsage.TotalTime;

            if (options.IsDeadlineRun)
            {
                var work = TimeSpan.FromSeconds(options.WorkloadSeconds!.Value);
                var endpoint = await bus.GetSendEndpoint(Addresses.Agent(root.VmmId));
                await endpoint.Send(new StartWorkload($"workload-{Guid.NewGuid():N}"[..17], root.VmmId, work), timeout.Token);
            }
            else
            {
                var external = new ExternalEvent
                {
                    Type = "host.degraded",
                    EventId = Guid.NewGuid().ToString(),
                    Vmm = root.VmmId,
                    Severity = "critical",
                    OccurredAt = DateTimeOffset.UtcNow,
                };
                Say($"external event: host.degraded (critical) on {root.VmmId}");
                await bus.Publish(external, timeout.Token);
            }

            var summary = WithFaults(await AwaitOutcomeAsync(host.Services, observer, root.VmmId, timeout.Token), faults) with
            {
                CpuSeconds = Math.Round((Environment.CpuUsage.TotalTime - cpuAtEvent).TotalSeconds, 2),
            };
            Report(summary);
            return summary.Verified ? 0 : 1;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !interrupted.IsCancellationRequested)
        {
            var summary = new RunSummary
            {
                Mode = options.IsDeadlineRun ? "duplicate" : "broadcast",
                State = "TimedOut",
                Root = root.VmmId,
                ElapsedMs = _clock.ElapsedMilliseconds,
                FailureReason = $"no final state within --timeout-seconds {options.TimeoutSeconds}",
            };
            Report(summary);
            return 1;
        }
        finally
        {
            // Stopping alone leaves the VMMs (and their QEMU processes) to disposal: dispose here, before the run's
            // directory goes, so no QEMU outlives the run.
            await host.StopAsync(CancellationToken.None);
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    /// <summary>A message that faulted for good is a problem of the run, whatever the outcome says.</summary>
    private static RunSummary WithFaults(RunSummary summary, MessageFaults faults) =>
        faults.Faulted == 0
            ? summary
            : summary with
            {
                FaultedMessages = faults.Faulted,
                Problems = [.. summary.Problems, $"{faults.Faulted} messages faulted after every retry (moved to an _error queue)"],
                Verified = false,
            };

    private async Task<RunSummary> AwaitOutcomeAsync(IServiceProvider services, RunObserver observer, string rootVmmId, CancellationToken cancellationToken)
    {
        using var progress = new CancellationTokenSource();
        var drawing = _display.ShowProgressAsync(observer, progress.Token);
        try
        {
            if (options.IsDeadlineRun)
            {
                var first = await Task.WhenAny(observer.Requested, observer.WorkloadCompletedTask).WaitAsync(cancellationToken);
                if (first == observer.WorkloadCompletedTask)
                {
                    return new RunSummary
                    {
                        Mode = "duplicate",
                        State = "CompletedInTime",
                        Root = rootVmmId,
                        ElapsedMs = _clock.ElapsedMilliseconds,
                        Verified = true,
                    };
                }
            }

            var finished = await observer.Finished.WaitAsync(cancellationToken);
            return OutcomeCheck.Summarize(finished, AgentStates.Read(services), observer.TransferStartedAt);
        }
        finally
        {
            await progress.CancelAsync();
            await drawing;
        }
    }

    private void Report(RunSummary summary)
    {
        if (options.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
        }

        Say($"{summary.State}: {summary.Mode} from {summary.Root} in {summary.ElapsedMs} ms"
            + (summary.TransferMiBPerSecond is { } rate ? $", {rate:0.0} MiB/s delivered" : string.Empty)
            + (summary.FailureReason is { } reason ? $" — {reason}" : string.Empty));
        foreach (var host in summary.Hosts)
        {
            Say($"  {host.Vmm,-10} " + string.Join("  ", host.Vms.Select(v => $"{v.Vm} {v.State} {v.Sha256?[..12]}")));
        }

        foreach (var problem in summary.Problems)
        {
            Say("  problem: " + problem);
        }

        Say(summary.Verified ? "every copy verified" : "NOT verified");
    }

    /// <summary>The agents of the run, each with a certificate of a CA made in memory for this run only: mutual TLS on loopback, no files.</summary>
    private AgentOptions[] AgentHosts(IReadOnlyList<FleetHost> fleet, string runDirectory, string commandSender)
    {
        var ca = FleetCertificateAuthority.Create("Treecast standalone run CA", TimeSpan.FromDays(1));
        return fleet.Select((host, i) => new AgentOptions
        {
            VmmId = host.VmmId,
            Location = host.Location,
            GrpcPort = 0,
            Vmm = options.Vmm,
            VmCount = i == 0 ? options.VmsPerHost : 0,
            ImageMiB = options.ImageMiB,
            WorkDirectory = Path.Combine(runDirectory, host.VmmId),
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            Tls = new AgentTlsOptions { Credentials = ca.IssueCredentials(host.VmmId, ["127.0.0.1"]) },
            CommandSender = commandSender,
        }).ToArray();
    }

    private void Say(string line) => _display.Say(_clock.Elapsed, line);

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; the run's result is what matters.
        }
    }
}
