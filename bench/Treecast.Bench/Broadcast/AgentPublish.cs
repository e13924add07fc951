using System.Diagnostics;
using System.Runtime.InteropServices;
using Treecast.Bench.Running;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// The agent as <c>services/Agent/Dockerfile</c> deploys it: published self-contained and ready-to-run as one composite
/// image (the runtime, the framework, its code and its packages' compiled ahead of time together for this machine's
/// architecture), so a fresh agent does not spend its first operation compiling. <c>--agent build</c> runs the build
/// output instead, every method compiled on first use.
/// </summary>
public static class AgentPublish
{
    public const string ReadyToRun = "ready-to-run";

    public const string Build = "build";

    /// <summary>
    /// Publishes <c>services/Agent</c> beside its build output (<c>bin/{configuration}/net10.0/{rid}/bench-publish</c>) and
    /// returns its dll. The folder is kept like any build output. Compiling the composite image takes about 2 minutes;
    /// a publish right after another took 3 s here, but most runs compiled it again (110-130 s measured).
    /// </summary>
    public static async Task<string> ReadyToRunAsync(CancellationToken cancellationToken)
    {
        var project = Path.Combine(RepositoryLayout.Root, "services", "Agent", "Treecast.Agent.csproj");
        var directory = Path.Combine(
            RepositoryLayout.Root, "services", "Agent", "bin", RepositoryLayout.Configuration, "net10.0", RuntimeInformation.RuntimeIdentifier, "bench-publish");
        string[] arguments =
        [
            "publish", project, "-c", RepositoryLayout.Configuration, "-a", Architecture, "--self-contained", "true",
            "-p:PublishReadyToRun=true", "-p:PublishReadyToRunComposite=true", "-o", directory, "--nologo", "-v", "quiet",
        ];
        var started = Stopwatch.GetTimestamp();
        Console.Error.WriteLine($"agent: publishing {project} ready-to-run, as its Dockerfile does (--agent {Build} skips this)");
        await ExternalCommand.RunAsync(
            "dotnet",
            $"Run 'dotnet {string.Join(' ', arguments)}' to see the build's errors, or pass --agent {Build} to run the build output.",
            cancellationToken,
            arguments);
        Console.Error.WriteLine($"agent: published in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
        var dll = Path.Combine(directory, "Treecast.Agent.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"dotnet publish left no {dll}.", dll);
    }

    // dotnet's -a takes the architecture alone (x64, arm64: the enum's names in lower case) and adds this machine's OS.
    private static string Architecture => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
}
