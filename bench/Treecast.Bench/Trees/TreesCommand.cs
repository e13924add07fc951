using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Treecast.Bench.Running;
using Treecast.Topology.Trees;

namespace Treecast.Bench.Trees;

/// <summary><c>trees</c>: topology's <see cref="TreeBuilder"/> over datacenter-shaped fleets of growing size.</summary>
public static class TreesCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var sizes = new Option<int[]>("--vmms")
        {
            Description = "Fleet sizes to build trees over (repeatable; default 1000 10000 100000, quick 1000 10000).",
            AllowMultipleArgumentsPerToken = true,
        };
        var fanOut = new Option<int>("--fan-out")
        {
            Description = "Children per VMM at most (topology's default is 2).",
            DefaultValueFactory = _ => 2,
        };
        var stripes = new Option<int>("--stripes")
        {
            Description = "Stripe trees over the same VMMs, 1 to 16 (1 = one tree).",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("trees", "Times topology's TreeBuilder over 1,000 to 100,000 VMMs in sites, pods and racks; counts links that cross each level.")
        {
            sizes, fanOut, stripes,
        };
        common.AddTo(command);
        command.SetAction(result =>
        {
            var quick = result.GetValue(common.Quick);
            var chosen = result.GetValue(sizes) is { Length: > 0 } given ? given : quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
            return Run(chosen, result.GetValue(fanOut), result.GetValue(stripes), quick, common.ResultsDirectory(result));
        });
        return command;
    }

    private static int Run(int[] sizes, int fanOut, int stripes, bool quick, string resultsDirectory)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var builder = new TreeBuilder();

        // One small build first, so the first measured size does not pay for JIT compilation.
        var warmUp = new DatacenterFleet(200);
        builder.Build("vmm-000000", fanOut, warmUp.Vmms(), 1, stripes);

        var rows = new List<object>();
        var table = new Table().AddColumns("VMMs", "sites/pods/racks", "build ms", "site links (min)", "pod links (min)", "rack links (min)", "depth", "max children", "max interior in");
        foreach (var size in sizes)
        {
            var fleet = new DatacenterFleet(size);
            var vmms = fleet.Vmms();
            var watch = Stopwatch.StartNew();
            var tree = builder.Build(vmms[0].VmmId, fanOut, vmms, 1, stripes);
            var elapsed = watch.Elapsed;
            var shape = TreeMeasurement.Of(tree);
            var minimum = Enumerable.Range(1, 3).Select(l => fleet.GroupsAt(l) - 1).ToArray();
            table.AddRow(
                $"{size:N0}",
                $"{fleet.Sites}/{fleet.Pods}/{fleet.Racks}",
                $"{elapsed.TotalMilliseconds:F1}",
                $"{shape.CrossLinks[0]} ({minimum[0]})",
                $"{shape.CrossLinks[1]} ({minimum[1]})",
                $"{shape.CrossLinks[2]} ({minimum[2]})",
                $"{shape.Depth}",
                $"{shape.MaxChildren}",
                $"{shape.MaxInteriorIn}");
            rows.Add(new
            {
                vmms = size,
                sites = fleet.Sites,
                pods = fleet.Pods,
                racks = fleet.Racks,
                buildMs = elapsed.TotalMilliseconds,
                crossLinks = new { site = shape.CrossLinks[0], pod = shape.CrossLinks[1], rack = shape.CrossLinks[2] },
                minimumCrossLinks = new { site = minimum[0], pod = minimum[1], rack = minimum[2] },
                depth = shape.Depth,
                maxChildren = shape.MaxChildren,
                maxInteriorIn = shape.MaxInteriorIn,
                nodes = shape.Nodes,
            });
        }

        AnsiConsole.Write(table);
        var options = new { fanOut, stripes, hostsPerRack = 40, racksPerPod = 20, podsPerSite = 5, vmms = sizes };
        var path = ResultFile.Write(resultsDirectory, "trees", startedAt, quick, options, rows);
        AnsiConsole.MarkupLineInterpolated($"[grey]{Machine.Current}[/]");
        AnsiConsole.MarkupLineInterpolated($"results: {path}");
        return 0;
    }
}
