using System.CommandLine;
using System.CommandLine.Parsing;
using Treecast.Cli;

var root = new RootCommand("treecast: run Treecast embedded, and operate a deployed fleet (operations, events, policies, VMMs).")
{
    RunCommand.Build(),
    OpsCommands.Build(),
    EventCommands.Build(),
    PolicyCommands.Build(),
    VmmsCommand.Build(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // One line that names the input and the likely fix, not the help text.
    var command = parsed.CommandResult.Command;
    var path = string.Join(' ', CommandPath(parsed.CommandResult));
    Console.Error.WriteLine($"treecast: {string.Join(" ", parsed.Errors.Select(e => e.Message))}{Suggestions.For(parsed, command)} (see treecast {path}{(path.Length > 0 ? " " : string.Empty)}--help)");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();

static IEnumerable<string> CommandPath(CommandResult? result)
{
    var names = new Stack<string>();
    for (var current = result; current?.Parent is CommandResult parent; current = parent)
    {
        names.Push(current.Command.Name);
    }

    return names;
}
