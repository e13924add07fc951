using System.CommandLine;

namespace Treecast.Cli;

/// <summary>"Did you mean --hosts?" for a mistyped option or command: the closest name the command knows, if close enough.</summary>
public static class Suggestions
{
    public static string For(ParseResult parsed, Command command)
    {
        var options = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct(StringComparer.Ordinal).ToList();
        var commands = command.Subcommands.Select(c => c.Name).ToList();
        var hints = parsed.UnmatchedTokens
            .Select(token => (Token: token, Best: (token.StartsWith('-') ? options : commands).MinBy(name => Distance(Name(token), name))))
            .Where(t => t.Best is not null && Distance(Name(t.Token), t.Best) <= Math.Max(2, t.Best.Length / 4))
            .Select(t => $" Did you mean '{t.Best}' for '{t.Token}'?")
            .ToList();
        return string.Concat(hints);
    }

    /// <summary>The option's name without a value given as <c>--name=value</c>.</summary>
    private static string Name(string token) => token.Split('=', 2)[0];

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
