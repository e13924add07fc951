using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;
using Treecast.Agent.Tests.Support;
using Treecast.Bench.Running;
using Treecast.Contracts;

namespace Treecast.Bench.Loopback;

/// <summary>
/// <c>relay-memory</c>: a relay agent in a process of its own (<see cref="RelayAgentCommand"/>) receives one image from a
/// root and feeds it to several leaves (root and leaves live in this process), on loopback in cleartext; its peak resident
/// memory (<c>VmHWM</c>) and CPU time are read from <c>/proc</c>. Issue 9's target: under 150 MiB for 2 GiB to two children.
/// </summary>
public static class RelayMemoryCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var mib = new Option<int?>("--mib") { Description = "Image size in MiB (default 2048, quick 32)." };
        var children = new Option<int>("--children") { Description = "Leaves under the relay.", DefaultValueFactory = _ => 2 };
        var chunkKib = new Option<int>("--chunk-kib") { Description = "Chunk size in KiB (default: the agents' default chunk).", DefaultValueFactory = _ => ChunkSizes.DefaultBytes / 1024 };
        var command = new Command("relay-memory", "A relay agent in its own process feeding N leaves: its peak resident memory and CPU per GiB.")
        {
            mib, children, chunkKib,
        };
        common.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(
            result.GetValue(mib) ?? (result.GetValue(common.Quick) ? 32 : 2048),
            result.GetValue(children),
            result.GetValue(chunkKib),
            result.GetValue(common.Quick),
            common.ResultsDirectory(result),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int mib, int children, int chunkKib, bool quick, string resultsDirectory, CancellationToken cancellationToken)
    {
        if (mib < 1 || children < 1 || chunkKib < 1)
        {
            Console.Error.WriteLine($"treecast-bench relay-memory: --mib {mib}, --children {children} and --chunk-kib {chunkKib} must all be 1 or more.");
            return 2;
        }

        var startedAt = DateTimeOffset.UtcNow;
        await using var resources = new RunResources();
        var work = resources.TemporaryDirectory("relay-memory");
        var events = new RecordingEventSink();
        var root = await TestAgent.StartAsync("root", work, events, null, [(LoopbackRelay.ImageVmId, mib * 1024L * 1024L)]);
        resources.OnRelease(async () => await root.DisposeAsync());
        var leaves = new List<TestAgent>();
        for (var i = 1; i <= children; i++)
        {
            var leaf = await TestAgent.StartAsync($"leaf-{i}", work, events, null);
            resources.OnRelease(async () => await leaf.DisposeAsync());
            leaves.Add(leaf);
        }

        var start = new ProcessStartInfo(Environment.ProcessPath!, [typeof(RelayMemoryCommand).Assembly.Location, "relay-agent", "--work", work])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // The agent's own runtime settings: those of its project (services/Agent/Treecast.Agent.csproj: workstation GC,
        // no tiered compilation, thread-pool workers that do not spin) and those its image sets (its Dockerfile).
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_TieredCompilation"] = "0";
        start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        foreach (var (name, value) in AgentImageEnvironment.Read())
        {
            start.Environment[name] = value;
        }

        var relay = resources.Track(Process.Start(start)!);
        var endpoint = await relay.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException("The relay process ended before it told its endpoint.");

        var operationId = Guid.NewGuid();
        var tree = new VmmTree(1, root.VmmId, children, [root.Node(null), new Contracts.TreeNode("relay", root.VmmId, "site-a/pod-1/rack-1", endpoint), .. leaves.Select(l => l.Node("relay"))]);
        var announced = root.Engine.Announce(new AnnouncePendingTransfer(operationId, root.VmmId, tree, root.Vmm.Images, chunkKib * 1024, BroadcastMode.Broadcast));
        await relay.StandardInput.WriteLineAsync(JsonSerializer.Serialize(announced, RelayAgentCommand.Json).AsMemory(), cancellationToken);
        await relay.StandardInput.FlushAsync(cancellationToken);
        leaves.ForEach(l => l.Engine.Expect(announced));
        // The relay answers once it expects the operation.
        await relay.StandardOutput.ReadLineAsync(cancellationToken);

        var idle = ProcessMemory.Of(relay.Id);
        var watch = Stopwatch.StartNew();
        root.Engine.StartTransfer(operationId);
        foreach (var leaf in leaves)
        {
            await events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == leaf.VmmId, TimeSpan.FromMinutes(30)).WaitAsync(cancellationToken);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var done = ProcessMemory.Of(relay.Id);
        await relay.StandardInput.WriteLineAsync("exit".AsMemory(), cancellationToken);
        await relay.StandardInput.FlushAsync(cancellationToken);
        var gcLine = await relay.StandardOutput.ReadLineAsync(cancellationToken);
        var gc = gcLine is null ? null : JsonSerializer.Deserialize<GcSummary>(gcLine, RelayAgentCommand.Json);
        await relay.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        var result = new
        {
            seconds,
            mibPerSecond = mib / seconds,
            relayIdleResidentMiB = idle.ResidentMiB,
            relayPeakResidentMiB = done.PeakResidentMiB,
            relayCpuSecondsPerGiB = (done.CpuSeconds - idle.CpuSeconds) * 1024 / mib,
            relayGc = gc,
        };
        var table = new Table().AddColumns("image MiB", "leaves", "leaves verified s", "MiB/s", "relay RSS before MiB", "relay peak RSS MiB", "relay GC heap peak MiB", "relay MiB allocated", "relay gen0 / gen1 / gen2 GCs", "relay CPU-s per GiB");
        table.AddRow($"{mib}", $"{children}", $"{seconds:F1}", $"{result.mibPerSecond:F0}", $"{idle.ResidentMiB:F0}", $"{done.PeakResidentMiB:F0}", $"{gc?.CommittedPeakMiB:F0}", $"{gc?.AllocatedMiB:F0}", $"{gc?.Gen0Collections} / {gc?.Gen1Collections} / {gc?.Gen2Collections}", $"{result.relayCpuSecondsPerGiB:F2}");
        AnsiConsole.Write(table);
        var path = ResultFile.Write(resultsDirectory, "relay-memory", startedAt, quick, new { mib, children, chunkKib }, result);
        AnsiConsole.MarkupLineInterpolated($"[grey]relay: the transfer engine and its gRPC server in a process of its own, workstation GC and no tiering as the agent; {Machine.Current}[/]");
        AnsiConsole.MarkupLineInterpolated($"results: {path}");
        return 0;
    }

    /// <summary>A process's resident memory now, its peak, and its CPU time, from <c>/proc</c>.</summary>
    private sealed record ProcessMemory(double ResidentMiB, double PeakResidentMiB, double CpuSeconds)
    {
        public static ProcessMemory Of(int pid)
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            double MiB(string key) => long.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;

            // Fields 14 and 15 of /proc/PID/stat (after the command name in parentheses): user and system time in ticks.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var cpu = (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
            return new ProcessMemory(MiB("VmRSS:"), MiB("VmHWM:"), cpu);
        }
    }
}
