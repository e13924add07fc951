using System.CommandLine;
using Spectre.Console;
using Treecast.Policy.Policies;

namespace Treecast.Cli;

/// <summary><c>treecast policies validate FILE…</c>: the policy service's own loader, run here, before a file is deployed.</summary>
public static class PolicyCommands
{
    public static Command Build() => new("policies", "Execution policy files.") { Validate() };

    private static Command Validate()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Policy files (*.yaml) or directories of them.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("validate", "Checks policy files as the policy service loads them: every error with its line, column and fix. Exits 0 when all are valid, 1 when any is not.")
        {
            files,
        };
        command.SetAction(result => Run(result.GetRequiredValue(files)));
        return command;
    }

    private static int Run(FileInfo[] files)
    {
        var loader = new PolicyLoader(new PolicyFileReader(), TimeProvider.System);
        var valid = true;
        foreach (var file in files)
        {
            try
            {
                // Each path on its own, as its own set: one bad file does not hide the others' results.
                var set = loader.Load(file.FullName);
                AnsiConsole.MarkupLine($"[green]ok[/] {Markup.Escape(file.ToString())}: {set.Policies.Count} policies ({Markup.Escape(string.Join(", ", set.Policies.Select(p => p.Name)))})");
            }
            catch (PolicyValidationException ex)
            {
                valid = false;
                foreach (var error in ex.Errors)
                {
                    Console.Error.WriteLine($"treecast: {error}");
                }
            }
        }

        return valid ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
