using System.CommandLine;
using MongoDB.Driver;
using Spectre.Console;
using Treecast.Bench.Running;

namespace Treecast.Bench.Saga;

/// <summary>
/// <c>saga</c>: the same 15-host broadcast in the embedded host with the in-memory saga store and with MongoDB,
/// alternating, so the cost of the MongoDB store (issue 9's target: at most 1.3 × in-memory) is read from one run.
/// </summary>
public static class SagaCommand
{
    private const double Target = 1.3;

    public static Command Build()
    {
        var common = new CommonOptions();
        var runs = new Option<int?>("--runs") { Description = "Runs with each store (default 5, quick 1)." };
        var imageMib = new Option<int?>("--image-mib") { Description = "Size of each of the root's VM images in MiB (default 16, quick 4)." };
        var mongo = new Option<string?>("--mongo")
        {
            Description = "MongoDB connection string (default: MONGODB_URI). Without one only the in-memory store runs. "
                + "tools/mongo-emulator.sh starts a wire-compatible server: export MONGODB_URI=$(bash tools/mongo-emulator.sh | tail -n1)",
        };
        var command = new Command("saga", "A 15-host broadcast (services/Standalone) with the in-memory and the MongoDB saga store, alternating: operation time, faulted messages, ratio.")
        {
            runs, imageMib, mongo,
        };
        common.AddTo(command);
        command.SetAction((result, cancellationToken) =>
        {
            var quick = result.GetValue(common.Quick);
            return RunAsync(
                result.GetValue(runs) ?? (quick ? 1 : 5),
                result.GetValue(imageMib) ?? (quick ? 4 : 16),
                result.GetValue(mongo) ?? Environment.GetEnvironmentVariable("MONGODB_URI"),
                quick,
                common.ResultsDirectory(result),
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(int runs, int imageMib, string? mongo, bool quick, string resultsDirectory, CancellationToken cancellationToken)
    {
        if (runs < 1 || imageMib < 1)
        {
            Console.Error.WriteLine($"treecast-bench saga: --runs {runs} and --image-mib {imageMib} must both be 1 or more.");
            return 2;
        }

        var startedAt = DateTimeOffset.UtcNow;
        await using var resources = new RunResources();
        string[] arguments = ["--hosts", "15", "--racks", "3", "--vms", "2", "--image-mib", $"{imageMib}", "--json"];
        var stores = string.IsNullOrWhiteSpace(mongo) ? new[] { "in-memory" } : ["in-memory", "mongodb"];
        var skipped = string.IsNullOrWhiteSpace(mongo) ? "no MongoDB: give --mongo or set MONGODB_URI" : null;

        var results = new List<SagaRun>();
        for (var run = 1; run <= runs; run++)
        {
            foreach (var store in stores)
            {
                var environment = new Dictionary<string, string>();
                if (store == "mongodb")
                {
                    var database = $"treecast-bench-{Guid.NewGuid():N}"[..27];
                    environment["Mongo__ConnectionString"] = mongo!;
                    environment["Mongo__Database"] = database;
                    resources.OnRelease(() => new MongoClient(mongo).DropDatabaseAsync(database));
                }

                var result = await StandaloneProcess.RunAsync(resources, store, arguments, environment, cancellationToken);
                Console.Error.WriteLine($"run {run}/{runs} {store}: {result.State} in {result.OperationMs} ms, {result.CpuSeconds} CPU-s, {result.FaultedMessages} faulted");
                results.Add(result);
            }
        }

        var byStore = stores.Select(s => Summarize(s, results.Where(r => r.Store == s).ToList())).ToList();
        var inMemory = byStore[0];
        var ratio = byStore.Count > 1 ? byStore[1].MedianOperationMs / inMemory.MedianOperationMs : (double?)null;
        var cpuRatio = byStore.Count > 1 ? byStore[1].MedianCpuSeconds / inMemory.MedianCpuSeconds : null;

        var table = new Table().AddColumns("store", "runs", "median operation ms", "min", "max", "median CPU-s", "faulted messages", "all verified", "ratio to in-memory");
        foreach (var store in byStore)
        {
            table.AddRow(
                store.Store,
                $"{store.Runs}",
                $"{store.MedianOperationMs:F0}",
                $"{store.MinOperationMs}",
                $"{store.MaxOperationMs}",
                $"{store.MedianCpuSeconds:F1}",
                $"{store.FaultedMessages}",
                store.AllVerified ? "yes" : "NO",
                $"{store.MedianOperationMs / inMemory.MedianOperationMs:F2}");
        }

        AnsiConsole.Write(table);
        if (skipped is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]MongoDB store not measured: {skipped}[/]");
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"MongoDB / in-memory (medians): {ratio:F2} (target ≤ {Target}); CPU-s {cpuRatio:F2}");
        }

        var path = ResultFile.Write(
            resultsDirectory,
            "saga",
            startedAt,
            quick,
            new { runs, imageMib, hosts = 15, racks = 3, vms = 2, mongo = skipped is null },
            new { stores = byStore, ratioMongoToInMemory = ratio, cpuRatioMongoToInMemory = cpuRatio, target = Target, mongoSkipped = skipped, runs = results });
        AnsiConsole.MarkupLineInterpolated($"[grey]{imageMib} MiB × 2 VMs to 14 VMMs; {Machine.Current}[/]");
        AnsiConsole.MarkupLineInterpolated($"results: {path}");
        return results.All(r => r.ExitCode == 0 && r.Verified) ? 0 : 1;
    }

    private static SagaStoreSummary Summarize(string store, IReadOnlyList<SagaRun> runs)
    {
        var times = runs.Select(r => (double)r.OperationMs).Order().ToList();
        var cpu = runs.Where(r => r.CpuSeconds is not null).Select(r => r.CpuSeconds!.Value).Order().ToList();
        return new SagaStoreSummary(
            store,
            runs.Count,
            Median(times)!.Value,
            (long)times[0],
            (long)times[^1],
            Median(cpu),
            runs.Sum(r => r.FaultedMessages),
            runs.All(r => r.Verified));
    }

    private static double? Median(List<double> sorted) =>
        sorted.Count == 0 ? null
        : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2]
        : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2.0;
}
