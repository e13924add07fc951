using System.CommandLine;

namespace Treecast.Bench.Running;

/// <summary>The options every benchmark takes.</summary>
public sealed class CommonOptions
{
    public Option<bool> Quick { get; } = new("--quick")
    {
        Description = "A short run with small sizes: checks that the benchmark works, its numbers mean little.",
    };

    public Option<DirectoryInfo?> Results { get; } = new("--results")
    {
        Description = "The folder for the result file (default: bench/results of the repository).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Quick);
        command.Options.Add(Results);
    }

    public string ResultsDirectory(ParseResult result) => result.GetValue(Results)?.FullName ?? ResultFile.DefaultDirectory();
}
