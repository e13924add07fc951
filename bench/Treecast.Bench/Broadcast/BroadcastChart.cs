using ScottPlot;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// The broadcast benchmark's chart: T/(S/B) against the number of receivers, one line per strategy and one for the raw
/// chain, one panel per link rate side by side; the bound (1) drawn across. Written as a PNG next to the result file.
/// </summary>
public static class BroadcastChart
{
    public static void Write(string path, IReadOnlyList<ShapedConfiguration> configurations, int imageMiB, bool tls)
    {
        var rates = configurations.Select(c => c.Mbit).Distinct().Order().ToList();
        var multiplot = new Multiplot();
        multiplot.AddPlots(rates.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var strategies = configurations.SelectMany(c => c.Strategies.Select(s => s.Strategy)).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (var panel = 0; panel < rates.Count; panel++)
        {
            var plot = multiplot.GetPlot(panel);
            var atRate = configurations.Where(c => c.Mbit == rates[panel]).OrderBy(c => c.Receivers).ToList();
            var bound = plot.Add.HorizontalLine(1);
            bound.LinePattern = LinePattern.Dotted;
            bound.Color = Colors.Gray;
            bound.LegendText = "bound S/B";

            var raw = plot.Add.Scatter(atRate.Select(c => (double)c.Receivers).ToArray(), atRate.Select(c => c.RawChain.RatioToBound).ToArray());
            raw.LegendText = "raw TCP chain";
            raw.Color = Colors.Black;
            raw.LinePattern = LinePattern.Dashed;
            raw.MarkerSize = 7;
            for (var s = 0; s < strategies.Count; s++)
            {
                var points = atRate
                    .Select(c => (c.Receivers, Run: c.Strategies.FirstOrDefault(r => r.Strategy == strategies[s] && r.AllVerified)))
                    .Where(p => p.Run is not null)
                    .ToList();
                if (points.Count == 0)
                {
                    continue;
                }

                var line = plot.Add.Scatter(points.Select(p => (double)p.Receivers).ToArray(), points.Select(p => p.Run!.RatioToBound).ToArray());
                line.LegendText = strategies[s];
                line.Color = palette.GetColor(s);
                line.LineWidth = 2;
                line.MarkerSize = 8;
            }

            var receivers = atRate.Select(c => (double)c.Receivers).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(receivers, receivers.Select(r => $"{r:F0}").ToArray());
            plot.Axes.SetLimitsY(0, Math.Max(2, configurations.SelectMany(c => c.Strategies).Select(r => r.RatioToBound).DefaultIfEmpty(1).Max() * 1.08));
            plot.Axes.SetLimitsX(receivers.Min() - 1, receivers.Max() + 1);
            plot.Title($"{rates[panel]} Mbit/s per host, S = {imageMiB} MiB ({(tls ? "mutual TLS" : "cleartext")})");
            plot.XLabel("receivers N");
            plot.YLabel("T / (S/B)");
            plot.ShowLegend(Alignment.UpperLeft);
        }

        multiplot.SavePng(path, 720 * rates.Count, 560);
    }
}
