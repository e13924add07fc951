using System.Diagnostics;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Running;

/// <summary>Starts a Treecast service from its build output as its own process, tracked by the run's resources.</summary>
public static class ServiceProcesses
{
    /// <param name="redirectOutput">The caller reads the process's standard output and error; otherwise they are dropped.</param>
    /// <param name="temporaryDirectory">The process's TMPDIR: what it leaves there when killed is deleted with the run.</param>
    public static Process Start(RunResources resources, string service, IReadOnlyDictionary<string, string> environment, string temporaryDirectory, IEnumerable<string>? arguments = null, bool redirectOutput = false) =>
        StartDll(resources, RepositoryLayout.ServiceDll(service), environment, temporaryDirectory, arguments, redirectOutput, networkNamespace: null);

    /// <summary>Starts <c>dotnet {dll}</c>, inside <paramref name="networkNamespace"/> when given (<c>ip netns exec</c> runs it in place: same process id).</summary>
    public static Process StartDll(RunResources resources, string dll, IReadOnlyDictionary<string, string> environment, string temporaryDirectory, IEnumerable<string>? arguments, bool redirectOutput, string? networkNamespace)
    {
        var start = new ProcessStartInfo(networkNamespace is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = networkNamespace is not null,
            UseShellExecute = false,
        };
        if (networkNamespace is not null)
        {
            foreach (var word in new[] { "netns", "exec", networkNamespace, "dotnet" })
            {
                start.ArgumentList.Add(word);
            }
        }

        start.ArgumentList.Add(dll);
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["TMPDIR"] = temporaryDirectory;
        var process = resources.Track(Process.Start(start)!);
        if (!redirectOutput)
        {
            // A service's log is not the benchmark's output: read and dropped, so the process never blocks on a full pipe.
            // Read as bytes, not split into lines and strings: the benchmark shares the cores it measures.
            _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        }

        return process;
    }
}
