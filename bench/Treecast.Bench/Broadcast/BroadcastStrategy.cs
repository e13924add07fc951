using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// How the policy shapes the broadcast: <c>star</c> (fan-out N: the root sends to everyone), <c>f{k}</c> (fan-out k),
/// <c>default</c> (the policy names neither fan-out nor stripes), <c>s{k}</c> (k stripes) and <c>s{k}f{m}</c>. Only what
/// the strategy names is written into the policy, so a policy service without stripes still runs the others.
/// </summary>
public sealed partial record BroadcastStrategy(string Name, bool Star, int? FanOut, int? Stripes)
{
    public static BroadcastStrategy Parse(string text)
    {
        var name = text.Trim().ToLowerInvariant();
        if (name is "star" or "default")
        {
            return new BroadcastStrategy(name, name == "star", null, null);
        }

        var match = Shape().Match(name);
        if (!match.Success || (!match.Groups["stripes"].Success && !match.Groups["fanOut"].Success))
        {
            throw new FormatException(
                $"--strategies: '{text}' is not a strategy; use star, default, f<k> (fan-out k, e.g. f2), s<k> (k stripes, e.g. s2) or s<k>f<m> (e.g. s2f2).");
        }

        int? Read(string group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : null;
        var strategy = new BroadcastStrategy(name, false, Read("fanOut"), Read("stripes"));
        if (strategy.FanOut is < 1 or > 64 || strategy.Stripes is < 1 or > 64)
        {
            throw new FormatException($"--strategies: '{text}' asks for a fan-out or a stripe count outside 1..64.");
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
        if (fanOut is null && Stripes is null)
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

        return yaml.ToString();
    }

    [GeneratedRegex(@"^(s(?<stripes>\d+))?(f(?<fanOut>\d+))?$")]
    private static partial Regex Shape();
}
