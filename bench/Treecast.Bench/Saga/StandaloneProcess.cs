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
        // The host makes its run folder under TMPDIR and deletes it when it ends; a run killed by Ctrl-C cannot, so
        // its TMPDIR is one of ours.
        var process = ServiceProcesses.Start(resources, "Standalone", environment, resources.TemporaryDirectory($"saga-{store}"), arguments, redirectOutput: true);
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
            watch.Elapsed.TotalSeconds,
            root.TryGetProperty("cpuSeconds", out var cpu) && cpu.ValueKind == JsonValueKind.Number ? cpu.GetDouble() : null);
    }
}
