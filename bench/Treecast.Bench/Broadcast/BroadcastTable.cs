using Spectre.Console;

namespace Treecast.Bench.Broadcast;

/// <summary>The broadcast benchmark's table: per link rate and N, the raw chain, then each strategy.</summary>
public static class BroadcastTable
{
    private const double MiB = 1024 * 1024;

    public static void Write(IReadOnlyList<ShapedConfiguration> configurations)
    {
        var table = new Table().AddColumns(
            "Mbit/s", "N", "strategy", "T s", "transfer s", "T/(S/B)", "raw chain T/(S/B)", "depth", "root sent MiB", "most sent by one host MiB",
            "agents CPU-s", "max peak RSS MiB", "verified");
        foreach (var configuration in configurations.OrderBy(c => c.Mbit).ThenBy(c => c.Receivers))
        {
            var raw = configuration.RawChain;
            var rawRatio = $"{raw.RatioToBound:F2}";
            table.AddRow(
                $"{configuration.Mbit}", $"{configuration.Receivers}", "raw TCP chain", $"{raw.Seconds:F1}", "", rawRatio, rawRatio, $"{configuration.Receivers}",
                $"{raw.BytesSent[0] / MiB:F0}", $"{raw.BytesSent.Max() / MiB:F0}", "", "", "");
            foreach (var run in configuration.Strategies)
            {
                var strategy = run.Strategy + (run.FanOut is { } k ? $" (fan-out {k}{(run.Stripes is { } s ? $", {s} stripes" : "")})" : run.Stripes is { } only ? $" ({only} stripes)" : "");
                table.AddRow(
                    $"{configuration.Mbit}",
                    $"{configuration.Receivers}",
                    Markup.Escape(strategy),
                    $"{run.OperationSeconds:F1}",
                    run.TransferSeconds is { } transfer ? $"{transfer:F1}" : "",
                    $"{run.RatioToBound:F2}",
                    rawRatio,
                    $"{run.Depth}",
                    $"{run.Agents[0].BytesSent / MiB:F0}",
                    $"{run.Agents.Max(a => a.BytesSent) / MiB:F0}",
                    $"{run.Agents.Sum(a => a.CpuSeconds):F1}",
                    $"{run.Agents.Max(a => a.PeakResidentMiB):F0}",
                    run.State == "Completed" && run.AllVerified ? "yes" : Markup.Escape($"NO ({run.State})"));
            }

            foreach (var failure in configuration.Failures)
            {
                table.AddRow($"{configuration.Mbit}", $"{configuration.Receivers}", Markup.Escape(failure), "", "", "", rawRatio, "", "", "", "", "", "failed");
            }
        }

        AnsiConsole.Write(table);
    }
}
