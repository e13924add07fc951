using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// How the policy shapes the broadcast: <c>star</c> (fan-out N: the root sends to everyone), <c>f{k}</c> (fan-out k),
/// <c>default</c> (the policy names neither fan-out nor stripes), <c>s{k}</c> (k stripes) and <c>s{k}f{m}</c>. Only what
/// the strategy names is written into the policy, so a policy service without stripes still runs the others. Any of them
/// may end in <c>c{KiB}</c>: the policy's <c>chunkSizeKiB</c> (<c>f1c256</c>, <c>defaultc256</c>); without it, the default.
/// </summary>
public sealed partial record BroadcastStrategy(string Name, bool Star, int? FanOut, int? Stripes, int? ChunkSizeKiB = null)
{
    public static BroadcastStrategy Parse(string text)
    {
        var name = text.Trim().ToLowerInvariant();
        var match = Shape().Match(name);
        var named = match.Success && (match.Groups["word"].Success || match.Groups["stripes"].Success || match.Groups["fanOut"].Success);
        if (!named || (match.Groups["word"].Success && (match.Groups["stripes"].Success || match.Groups["fanOut"].Success)))
        {
            throw new FormatException(
                $"--strategies: '{text}' is not a strategy; use star, default, f<k> (fan-out k, e.g. f2), s<k> (k stripes, e.g. s2) or s<k>f<m> (e.g. s2f2), each optionally ending in c<KiB> (chunk size, e.g. f1c256).");
        }

        int? Read(string group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : null;
        var strategy = new BroadcastStrategy(name, match.Groups["word"].Value == "star", Read("fanOut"), Read("stripes"), Read("chunk"));
        if (strategy.FanOut is < 1 or > 64 || strategy.Stripes is < 1 or > 64)
        {
            throw new FormatException($"--strategies: '{text}' asks for a fan-out or a stripe count outside 1..64.");
        }

        if (strategy.ChunkSizeKiB is < 4 or > 16384)
        {
            throw new FormatException($"--strategies: '{text}' asks for a chunk size outside 4..16384 KiB.");
        }

        return strategy;
    }

    /// <summary>The fan-out the policy asks for with <paramref name="receivers"/> receivers; null for the policy's default.</summary>
    public int? FanOutFor(int receivers) => Star ? receivers : FanOut;

    /// <summary>A policy file broadcasting from <paramref name="rootVmmId"/> when it is reported degraded.</summary>
    public string PolicyYaml(string rootVmmId, int receivers)
    {
        var yaml = new StringBuilder()
            .AppendLine("# Written by the broadcast benchmark for one run.")
            .AppendLine("policies:")
            .AppendLine($"  - name: bench-{Name}")
            .AppendLine("    on:")
            .AppendLine("      type: host.degraded")
            .AppendLine("      match:")
            .AppendLine($"        vmm: {rootVmmId}")
            .AppendLine("    actions:");
        var fanOut = FanOutFor(receivers);
        if (fanOut is null && Stripes is null && ChunkSizeKiB is null)
        {
            return yaml.AppendLine("      - broadcast: {}").ToString();
        }

        yaml.AppendLine("      - broadcast:");
        if (fanOut is not null)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"          fanOut: {fanOut}");
        }

        if (Stripes is not null)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"          stripes: {Stripes}");
        }

        if (ChunkSizeKiB is not null)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"          chunkSizeKiB: {ChunkSizeKiB}");
        }

        return yaml.ToString();
    }

    [GeneratedRegex(@"^((?<word>star|default)|(s(?<stripes>\d+))?(f(?<fanOut>\d+))?)(c(?<chunk>\d+))?$")]
    private static partial Regex Shape();
}
