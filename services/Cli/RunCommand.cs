using System.CommandLine;
using Spectre.Console;
using Treecast.Standalone;

namespace Treecast.Cli;

/// <summary>
/// <c>treecast run</c>: the embedded run (services/Standalone, the same code as <c>dotnet run --project services/Standalone</c>)
/// with live per-VMM bars on a terminal. The options are the embedded run's; its own parser checks every value, so both
/// entry points accept and refuse the same input.
/// </summary>
public static class RunCommand
{
    private static readonly (string Name, string Description)[] Valued =
    [
        ("--hosts", "hosts (one VMM and one agent each), default 15"),
        ("--racks", "racks the hosts are spread over, default 3"),
        ("--pods", "pods the racks are spread over, default 1"),
        ("--vms", "VMs on the root host, default 2"),
        ("--image-mib", "size of each simulated VM image in MiB, default 64"),
        ("--fan-out", "children per VMM in the tree, default 2"),
        ("--stripes", "stripe trees over the same VMMs (1-16; 0 for the default)"),
        ("--chunk-kib", "transfer chunk size in KiB, default 1024"),
        ("--workload-seconds", "run a workload of S seconds in the root's VMs and watch its deadline"),
        ("--deadline-seconds", "the deadline; below --workload-seconds makes duplication run (default 2 x S)"),
        ("--vmm", "the VMM driver: simulated or qemu (the counter guest, infra/guest/build.sh)"),
        ("--vm-memory-mib", "guest RAM of each QEMU VM in MiB, default 16"),
        ("--policies", "use these policy files instead of the generated ones"),
        ("--timeout-seconds", "give up after N seconds, default 900"),
    ];

    private static readonly (string Name, string Description)[] Flags =
    [
        ("--json", "print one JSON summary object on stdout (progress goes to stderr)"),
        ("--verbose", "show the services' logs"),
    ];

    public static Command Build()
    {
        var command = new Command("run", "Runs the whole system in this process (in-memory bus, an agent per host on loopback gRPC with mutual TLS), broadcasts the root's VMs and checks every copy.");
        var valued = Valued.Select(o => new Option<string>(o.Name) { Description = o.Description }).ToList();
        var flags = Flags.Select(o => new Option<bool>(o.Name) { Description = o.Description }).ToList();
        valued.ForEach(command.Options.Add);
        flags.ForEach(command.Options.Add);
        command.SetAction(async (result, _) =>
        {
            var arguments = new List<string>();
            foreach (var option in valued)
            {
                if (result.GetValue(option) is { } value)
                {
                    arguments.AddRange([option.Name, value]);
                }
            }

            arguments.AddRange(flags.Where(f => result.GetValue(f)).Select(f => f.Name));
            return await RunAsync(arguments);
        });
        return command;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        var options = StandaloneOptions.Parse(arguments, out var error);
        if (options is null)
        {
            Console.Error.WriteLine($"treecast: {error}");
            if (arguments.Contains("--json"))
            {
                Console.Out.WriteLine(StandaloneRun.RefusedJson(error!, isDeadlineRun: arguments.Contains("--workload-seconds")));
            }

            return ExitCodes.Usage;
        }

        // Live bars only where a person watches: not under --json, not into a pipe or a file.
        var live = !options.Json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        return await new StandaloneRun(options, live ? new LiveRunDisplay() : null).ExecuteAsync();
    }
}
