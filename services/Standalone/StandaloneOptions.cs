using System.Globalization;
using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>The embedded run's command line. Every bad value gets a message that names the option and the fix.</summary>
public sealed record StandaloneOptions
{
    public int Hosts { get; init; } = 15;
    public int Racks { get; init; } = 3;
    public int Pods { get; init; } = 1;
    public int VmsPerHost { get; init; } = 2;
    public int ImageMiB { get; init; } = 64;
    /// <summary>Children per VMM; null leaves it to topology, which picks it for the image size and the number of hosts.</summary>
    public int? FanOut { get; init; }

    /// <summary>Stripe trees of the broadcast; 0 for topology's default.</summary>
    public int Stripes { get; init; }
    public int ChunkKiB { get; init; } = ChunkSizes.DefaultBytes / 1024;
    public double? WorkloadSeconds { get; init; }
    public double? DeadlineSeconds { get; init; }
    public bool Json { get; init; }
    public bool Verbose { get; init; }
    public string Vmm { get; init; } = "simulated";

    /// <summary>Guest RAM of each QEMU VM (<c>--vmm qemu</c>); its saved state, not <see cref="ImageMiB"/>, is the image.</summary>
    public int VmMemoryMiB { get; init; } = 16;
    public string? PoliciesPath { get; init; }
    public int TimeoutSeconds { get; init; } = 900;

    /// <summary>True when the run watches a workload's deadline instead of reacting to a degraded host.</summary>
    public bool IsDeadlineRun => WorkloadSeconds is not null || DeadlineSeconds is not null;

    /// <summary>True when the agents run QEMU VMs rather than simulated ones.</summary>
    public bool IsQemu => Vmm == "qemu";

    public const string Usage = """
        Treecast embedded run: the whole system in one process (in-memory bus, Quartz, agents on loopback gRPC).

        usage: dotnet run --project services/Standalone -- [options]

          --hosts N             hosts (one VMM and one agent each)                 default 15
          --racks N             racks the hosts are spread over                    default 3
          --pods N              pods the racks are spread over                     default 1
          --vms N               VMs on the root host                               default 2
          --image-mib N         size of each simulated VM image in MiB             default 64
          --fan-out N           children per VMM in the tree             default: by image size and hosts
          --stripes K           stripe trees over the same VMMs (1-16, 0 default)  default 0
          --chunk-kib N         transfer chunk size in KiB                         default 128
          --workload-seconds S  run a workload of S seconds in the root's VMs and watch its deadline
          --deadline-seconds D  the deadline; D < S makes it pass and duplication run  default 2xS
          --vmm simulated|qemu  the VMM driver; qemu runs the counter guest        default simulated
                                (infra/guest/build.sh) and images are its saved state
          --vm-memory-mib N     guest RAM of each QEMU VM in MiB                   default 16
          --policies PATH       use these policy files instead of the generated ones
          --timeout-seconds N   give up after N seconds                            default 900
          --json                print one JSON summary object on stdout (progress goes to stderr)
          --verbose             show the services' logs
        """;

    /// <summary>Parses <paramref name="args"/>; on a bad argument returns null and sets <paramref name="error"/>.</summary>
    public static StandaloneOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new StandaloneOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"option {name} needs a value, for example '{name} 4'");
                }

                return args[++i];
            }

            try
            {
                options = name switch
                {
                    "--hosts" => options with { Hosts = Int(name, Value(), 1, 500) },
                    "--racks" => options with { Racks = Int(name, Value(), 1, 500) },
                    "--pods" => options with { Pods = Int(name, Value(), 1, 100) },
                    "--vms" => options with { VmsPerHost = Int(name, Value(), 1, 64) },
                    "--image-mib" => options with { ImageMiB = Int(name, Value(), 1, 64 * 1024) },
                    "--fan-out" => options with { FanOut = Int(name, Value(), 1, 64) },
                    "--stripes" => options with { Stripes = Int(name, Value(), 0, Contracts.VmmTree.MaxStripes) },
                    "--chunk-kib" => options with { ChunkKiB = Int(name, Value(), 4, 16 * 1024) },
                    "--workload-seconds" => options with { WorkloadSeconds = Seconds(name, Value()) },
                    "--deadline-seconds" => options with { DeadlineSeconds = Seconds(name, Value()) },
                    "--vmm" => options with { Vmm = VmmDriver(Value()) },
                    "--vm-memory-mib" => options with { VmMemoryMiB = Int(name, Value(), 1, 64 * 1024) },
                    "--policies" => options with { PoliciesPath = Value() },
                    "--timeout-seconds" => options with { TimeoutSeconds = Int(name, Value(), 10, 86_400) },
                    "--json" => options with { Json = true },
                    "--verbose" => options with { Verbose = true },
                    _ => throw new ArgumentException($"unknown option '{name}'; see --help for the options"),
                };
            }
            catch (ArgumentException ex)
            {
                error = ex.Message;
                return null;
            }
        }

        if (options.Racks > options.Hosts)
        {
            error = $"--racks {options.Racks} is more than --hosts {options.Hosts}: every rack needs a host; lower --racks";
            return null;
        }

        if (options.Pods > options.Racks)
        {
            error = $"--pods {options.Pods} is more than --racks {options.Racks}: every pod needs a rack; lower --pods";
            return null;
        }

        if (options.DeadlineSeconds is not null && options.WorkloadSeconds is null)
        {
            error = "--deadline-seconds needs --workload-seconds: the deadline watches a workload";
            return null;
        }

        return options;
    }

    private static int Int(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ArgumentException($"{name} '{text}' is not a whole number from {min} to {max}");
        }

        return value;
    }

    private static double Seconds(string name, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value <= 0 || value > 86_400)
        {
            throw new ArgumentException($"{name} '{text}' is not a number of seconds above 0 (for example 1.5)");
        }

        return value;
    }

    private static string VmmDriver(string text) => text.ToLowerInvariant() switch
    {
        "simulated" or "qemu" => text.ToLowerInvariant(),
        _ => throw new ArgumentException($"--vmm '{text}' is not a VMM driver this build has; use 'simulated' or 'qemu'"),
    };
}
