using System.Text.Json.Nodes;
using Spectre.Console;

namespace Treecast.Cli;

/// <summary>Follows one operation by polling its document: live bars per VMM on a terminal, a line per change otherwise.</summary>
public static class OperationWatch
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>Polls until the operation reaches a final state; returns that state, after printing the operation.</summary>
    public static async Task<string> FollowAsync(Func<Task<JsonNode>> read, CancellationToken cancellationToken)
    {
        var operation = (await read()).AsObject();
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .AutoClear(true)
                // Rate and ETA from RateWindow, as treecast run shows them: Spectre's speed column reads the first poll's
                // jump from 0 as taking no time.
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn())
                .StartAsync(async context =>
                {
                    var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var rates = new RateWindows();
                    while (true)
                    {
                        foreach (var host in Hosts(operation))
                        {
                            var vmm = OpsCommands.Text(host["vmmId"]);
                            if (host["parentVmmId"] is null)
                            {
                                continue; // The root sends; it receives nothing.
                            }

                            var bar = bars.TryGetValue(vmm, out var known) ? known : bars[vmm] = context.AddTask(vmm, maxValue: 1);
                            var total = host["totalBytes"]?.GetValue<long>() ?? 0;
                            bar.IsIndeterminate = total == 0;
                            bar.MaxValue = Math.Max(1, total);
                            var received = host["bytesReceived"]?.GetValue<long>() ?? 0;
                            bar.Value = Math.Min(bar.MaxValue, received);
                            bar.Description = rates.Label(vmm, received, total);
                        }

                        if (OpsCommands.IsFinal(State(operation)))
                        {
                            return;
                        }

                        await Task.Delay(Poll, cancellationToken);
                        operation = (await read()).AsObject();
                    }
                });
        }
        else
        {
            var last = string.Empty;
            while (true)
            {
                var hosts = Hosts(operation).Where(h => h["parentVmmId"] is not null).ToList();
                var line = $"{State(operation)}: {hosts.Count(h => h["verified"]?.GetValue<bool>() == true)}/{hosts.Count} VMMs verified, "
                    + $"{Standalone.Format.Bytes(hosts.Sum(h => h["bytesReceived"]?.GetValue<long>() ?? 0))} received";
                if (line != last)
                {
                    Console.WriteLine($"{DateTimeOffset.Now:HH:mm:ss} {line}");
                    last = line;
                }

                if (OpsCommands.IsFinal(State(operation)))
                {
                    break;
                }

                await Task.Delay(Poll, cancellationToken);
                operation = (await read()).AsObject();
            }
        }

        OpsCommands.Describe(operation);
        return State(operation);
    }

    private static string State(JsonObject operation) => OpsCommands.Text(operation["currentState"]);

    private static IEnumerable<JsonObject> Hosts(JsonObject operation) => operation["hosts"]?.AsArray().OfType<JsonObject>() ?? [];
}
