using System.Text.Json;
using System.Text.Json.Serialization;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Running;

/// <summary>One run's results as JSON: <c>{directory}/{benchmark}-{utc timestamp}.json</c>, with the machine and the options.</summary>
public static class ResultFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write(string directory, string benchmark, DateTimeOffset startedAt, bool quick, object options, object results)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{benchmark}-{startedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.json");
        var document = new
        {
            benchmark,
            startedAt,
            finishedAt = DateTimeOffset.UtcNow,
            quick,
            machine = Machine.Current,
            options,
            results,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, Json));
        return path;
    }

    /// <summary><c>bench/results</c> of the repository the tool runs from.</summary>
    public static string DefaultDirectory() => Path.Combine(RepositoryLayout.Root, "bench", "results");
}
