using System.Diagnostics;
using System.Text.Json;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests.Processes;

/// <summary>The embedded run (services/Standalone) as a user runs it: a process, its JSON summary, its exit code and output.</summary>
public static class StandaloneProcess
{
    public static Task<(int ExitCode, JsonDocument Summary, string Output)> RunAsync(params string[] arguments) =>
        RunAsync(expectJson: true, arguments);

    public static Task<(int ExitCode, JsonDocument Summary, string Output)> RunAsync(bool expectJson, params string[] arguments) =>
        RunAsync(expectJson, new Dictionary<string, string>(), arguments);

    /// <summary>Runs it with <paramref name="environment"/> added to this process's own (configuration by environment, as a user sets it).</summary>
    public static async Task<(int ExitCode, JsonDocument Summary, string Output)> RunAsync(
        bool expectJson,
        IReadOnlyDictionary<string, string> environment,
        params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepositoryLayout.ServiceDll("Standalone"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout;
        var log = await stderr;
        var summary = expectJson && output.TrimStart().StartsWith('{') ? JsonDocument.Parse(output) : JsonDocument.Parse("{}");
        return (process.ExitCode, summary, output + log);
    }
}
