using System.Diagnostics;
using System.Runtime.InteropServices;
using Treecast.Bench.Running;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// The services as their Dockerfiles deploy them, so a fresh fleet does not spend its first operation compiling: the
/// agent published self-contained and ready-to-run as one composite image (the runtime, the framework, its code and its
/// packages compiled ahead of time together for this machine's architecture), topology, scheduler and policy
/// ready-to-run on the shared framework. <see cref="Build"/> runs the build outputs instead, every method compiled on
/// first use.
/// </summary>
public static class ServicePublish
{
    public const string ReadyToRun = "ready-to-run";

    public const string Build = "build";

    /// <summary>
    /// Publishes <c>services/Agent</c> self-contained (its project makes that a trimmed composite, as its image is)
    /// beside its build output (<c>bin/{configuration}/net10.0/{rid}/bench-publish</c>) and
    /// returns its dll. The folder is kept like any build output. Compiling the composite image takes about 2 minutes;
    /// a publish right after another took 3 s here, but most runs compiled it again (110-130 s measured).
    /// </summary>
    public static Task<string> AgentAsync(CancellationToken cancellationToken) =>
        PublishAsync("Agent", ["--self-contained", "true"], cancellationToken);

    /// <summary>
    /// Publishes a control service (<c>Topology</c>, <c>Scheduler</c>, <c>Policy</c>) as its Dockerfile does, ready-to-run
    /// on the shared framework, beside its build output: 5-20 s each after an earlier publish, about 50 s from a clean build.
    /// </summary>
    public static Task<string> ControlServiceAsync(string service, CancellationToken cancellationToken) =>
        PublishAsync(service, ["--self-contained", "false", "-p:PublishReadyToRun=true"], cancellationToken);

    private static async Task<string> PublishAsync(string service, string[] mode, CancellationToken cancellationToken)
    {
        var project = Path.Combine(RepositoryLayout.Root, "services", service, $"Treecast.{service}.csproj");
        var directory = Path.Combine(
            RepositoryLayout.Root, "services", service, "bin", RepositoryLayout.Configuration, "net10.0", RuntimeInformation.RuntimeIdentifier, "bench-publish");
        string[] arguments =
        [
            "publish", project, "-c", RepositoryLayout.Configuration, "-a", Architecture, .. mode, "-o", directory, "--nologo", "-v", "quiet",
        ];
        var started = Stopwatch.GetTimestamp();
        Console.Error.WriteLine($"{service.ToLowerInvariant()}: publishing {project} ready-to-run, as its Dockerfile does (--agent / --services {Build} skip this)");
        await ExternalCommand.RunAsync(
            "dotnet",
            $"Run 'dotnet {string.Join(' ', arguments)}' to see the build's errors, or pass --agent {Build} --services {Build} to run the build outputs.",
            cancellationToken,
            arguments);
        Console.Error.WriteLine($"{service.ToLowerInvariant()}: published in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
        var dll = Path.Combine(directory, $"Treecast.{service}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"dotnet publish left no {dll}.", dll);
    }

    // dotnet's -a takes the architecture alone (x64, arm64: the enum's names in lower case) and adds this machine's OS.
    private static string Architecture => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
}
