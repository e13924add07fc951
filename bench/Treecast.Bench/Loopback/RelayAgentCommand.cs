using System.CommandLine;
using System.Text.Json;
using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Bench.Loopback;

/// <summary>
/// <c>relay-agent</c> (started by <see cref="RelayMemoryCommand"/>, not by hand): one agent named <c>relay</c> on a
/// loopback gRPC server in cleartext. It prints its endpoint, expects the announcement it reads from standard input
/// (one JSON line) and says so, and stops at <c>exit</c> or when its input closes. Before it stops it prints one JSON line
/// of what its garbage collector did (<see cref="GcSummary"/>): the most memory the GC heap held committed, read after
/// every collection, tells the heap's share of the process's peak from the rest.
/// </summary>
public static class RelayAgentCommand
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    public static Command Build()
    {
        var work = new Option<string>("--work") { Description = "The folder for the agent's work directory.", Required = true };
        var command = new Command("relay-agent", "(used by relay-memory) one relay agent in this process, driven through standard input.")
        {
            work,
        };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            // TREECAST_BENCH_ALLOCATIONS=1: which types the relay allocates, on standard error at the end.
            using var allocations = Environment.GetEnvironmentVariable("TREECAST_BENCH_ALLOCATIONS") == "1" ? new AllocationTally() : null;
            var peakCommitted = 0L;
            // GetGCMemoryInfo describes the last collection; sampled often enough, its maximum is the heap's peak.
            using var sampler = new Timer(_ => peakCommitted = Math.Max(peakCommitted, GC.GetGCMemoryInfo().TotalCommittedBytes), null, 0, 100);
            await using var agent = await TestAgent.StartAsync("relay", result.GetValue(work)!, new RecordingEventSink(), credentials: null);
            Console.WriteLine(agent.Endpoint);
            while (await Console.In.ReadLineAsync(cancellationToken) is { } line && line != "exit")
            {
                agent.Engine.Expect(JsonSerializer.Deserialize<PendingTransferAnnounced>(line, Json)!);
                Console.WriteLine("expecting");
            }

            foreach (var line in allocations?.Top(15) ?? [])
            {
                Console.Error.WriteLine($"relay allocated {line}");
            }

            var gc = GC.GetGCMemoryInfo();
            Console.WriteLine(JsonSerializer.Serialize(
                new GcSummary(
                    Math.Max(peakCommitted, gc.TotalCommittedBytes) / 1048576.0,
                    GC.GetTotalAllocatedBytes() / 1048576.0,
                    GC.CollectionCount(0),
                    GC.CollectionCount(1),
                    GC.CollectionCount(2)),
                Json));
            return 0;
        });
        return command;
    }
}

/// <summary>What the relay's garbage collector did over its life (MiB; collections counted per generation, each counting the younger ones too).</summary>
public sealed record GcSummary(double CommittedPeakMiB, double AllocatedMiB, int Gen0Collections, int Gen1Collections, int Gen2Collections);
