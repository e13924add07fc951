using System.Diagnostics;
using System.Text.Json;
using Treecast.Bench.Running;

namespace Treecast.Bench.Saga;

/// <summary>Runs the embedded host (services/Standalone) as its own process, as a user does, and reads its <c>--json</c> summary.</summary>
public static class StandaloneProcess
{
    public static async Task<SagaRun> RunAsync(
        RunResources resources,
        string store,
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(StandaloneDll());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        // The host makes its run folder under the temporary folder and deletes it when it ends; a run killed by Ctrl-C
        // cannot, so its temporary folder is one of ours.
        start.Environment["TMPDIR"] = resources.TemporaryDirectory($"saga-{store}");

        var process = resources.Track(Process.Start(start)!);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        var watch = Stopwatch.StartNew();
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var output = await stdout;
        var log = await stderr;
        if (!output.TrimStart().StartsWith('{'))
        {
            throw new InvalidOperationException($"The {store} run printed no JSON summary (exit code {process.ExitCode}):\n{output}{log}");
        }

        using var summary = JsonDocument.Parse(output);
        var root = summary.RootElement;
        return new SagaRun(
            store,
            process.ExitCode,
            root.GetProperty("state").GetString() ?? "unknown",
            root.GetProperty("elapsedMs").GetInt64(),
            root.GetProperty("faultedMessages").GetInt32(),
            root.GetProperty("verified").GetBoolean(),
            root.TryGetProperty("transferMiBPerSecond", out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetDouble() : null,
            watch.Elapsed.TotalSeconds);
    }

    private static string StandaloneDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release"
            : "Debug";
        var repository = Path.GetDirectoryName(ResultFile.DefaultDirectory())!;
        var path = Path.Combine(repository, "..", "services", "Standalone", "bin", configuration, "net10.0", "Treecast.Standalone.dll");
        return File.Exists(path)
            ? Path.GetFullPath(path)
            : throw new FileNotFoundException($"{Path.GetFullPath(path)} is missing: build the solution in {configuration} first (dotnet build Microservices.sln -c {configuration}).", path);
    }
}
