using System.Globalization;
using Spectre.Console;
using Treecast.Standalone;

namespace Treecast.Cli;

/// <summary>The embedded run on a terminal: its lines as they happen, then one live bar per receiving VMM (bytes, rate, ETA).</summary>
public sealed class LiveRunDisplay : IRunDisplay
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    public void Say(TimeSpan elapsed, string line) =>
        AnsiConsole.MarkupLine($"[grey]{elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),7}s[/] {Markup.Escape(line)}");

    public async Task ShowProgressAsync(RunObserver observer, CancellationToken cancellationToken)
    {
        // Bars appear with the first progress report: before it there is nothing to draw, and the lines above keep flowing.
        while (observer.ProgressByVmm().Count == 0)
        {
            try
            {
                await Task.Delay(Refresh, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await AnsiConsole.Progress()
            .AutoClear(false)
            // Rate and ETA are ours, over the last seconds of reports: Spectre's own speed column counts the first report's
            // jump from 0 as if it took no time and shows TiB/s.
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn())
            .StartAsync(async context =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var verified = new HashSet<string>(StringComparer.Ordinal);
                var rates = new RateWindows();
                while (true)
                {
                    foreach (var vmm in observer.ProgressByVmm())
                    {
                        if (!bars.TryGetValue(vmm.VmmId, out var bar))
                        {
                            bar = bars[vmm.VmmId] = context.AddTask(vmm.VmmId, maxValue: 1);
                        }

                        // A total of 0 is a QEMU image still being written: the bar spins until its size is known.
                        bar.IsIndeterminate = vmm.Total == 0;
                        bar.MaxValue = Math.Max(1, Math.Max(vmm.Total, vmm.Bytes));
                        bar.Value = vmm.Bytes;
                        var label = rates.Label(vmm.VmmId, vmm.Bytes, vmm.Total);
                        if (!verified.Contains(vmm.VmmId))
                        {
                            bar.Description = label;
                        }
                        if (vmm.Verified && verified.Add(vmm.VmmId))
                        {
                            bar.Description = $"{vmm.VmmId} [green]{"verified",12}[/]          ";
                            bar.Value = bar.MaxValue;
                            bar.StopTask();
                        }
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    try
                    {
                        await Task.Delay(Refresh, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        // One last pass above draws the final values.
                    }
                }
            });
    }
}
