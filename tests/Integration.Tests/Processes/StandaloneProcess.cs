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
        var (exitCode, output, log) = await RunDllAsync(RepositoryLayout.ServiceDll("Standalone"), environment, arguments, TimeSpan.FromMinutes(5));
        var summary = expectJson && output.TrimStart().StartsWith('{') ? JsonDocument.Parse(output) : JsonDocument.Parse("{}");
        return (exitCode, summary, output + log);
    }

    /// <summary>Runs a built .NET program (<c>dotnet {dll} {arguments}</c>) to its end; killed, with its children, after <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Log)> RunDllAsync(
        string dll,
        IReadOnlyDictionary<string, string> environment,
        IEnumerable<string> arguments,
        TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        using var expired = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(expired.Token);
        var stderr = process.StandardError.ReadToEndAsync(expired.Token);
        try
        {
            await process.WaitForExitAsync(expired.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
