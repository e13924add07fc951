using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Running;

/// <summary>
/// The runtime settings the agent's image sets (<c>ENV DOTNET_…</c> lines of <c>services/Agent/Dockerfile</c>), so the
/// benchmarks run agents as docker compose deploys them and the Dockerfile stays the one place they are written.
/// </summary>
public static class AgentImageEnvironment
{
    public static string Dockerfile { get; } = Path.Combine(RepositoryLayout.Root, "services", "Agent", "Dockerfile");

    /// <summary>Each <c>ENV DOTNET_NAME=value</c> of the Dockerfile (one variable per line), as name and value.</summary>
    public static IReadOnlyDictionary<string, string> Read()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Dockerfile))
        {
            if (!line.StartsWith("ENV DOTNET_", StringComparison.Ordinal))
            {
                continue;
            }

            var setting = line["ENV ".Length..].Trim();
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || setting.Contains(' ', StringComparison.Ordinal))
            {
                throw new FormatException($"{Dockerfile}: '{line}' is not one ENV NAME=value; write each runtime setting on a line of its own.");
            }

            settings[setting[..equals]] = setting[(equals + 1)..];
        }

        return settings;
    }
}
