using System.CommandLine;
using Spectre.Console;
using Treecast.Bench.Broadcast;
using Treecast.Bench.Events;
using Treecast.Bench.Loopback;
using Treecast.Bench.Saga;
using Treecast.Bench.Trees;

var root = new RootCommand("Treecast benchmarks: each prints a table and writes bench/results/<benchmark>-<utc timestamp>.json.")
{
    LoopbackCommand.Build(),
    RelayMemoryCommand.Build(),
    RelayAgentCommand.Build(),
    TreesCommand.Build(),
    SagaCommand.Build(),
    EventsCommand.Build(),
    BroadcastCommand.Build(),
    RawChainNodeCommand.Build(),
};

if (Console.IsOutputRedirected)
{
    // Redirected output has no terminal width; the tables would wrap at 80 columns.
    AnsiConsole.Profile.Width = 200;
}

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"treecast-bench: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return 2;
}

try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Treecast.Bench.Running.ExternalCommandException e)
{
    // A missing broker or tool: the message says which and what to do; a stack trace would bury it.
    Console.Error.WriteLine($"treecast-bench: {e.Message}");
    return 3;
}
catch (OperationCanceledException)
{
    // Ctrl-C: the benchmark removed what it made on the way out (RunResources); nothing more to say.
    Console.Error.WriteLine("treecast-bench: stopped");
    return 130;
}
