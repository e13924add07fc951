using Treecast.Standalone;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(StandaloneOptions.Usage);
    return 0;
}

var options = StandaloneOptions.Parse(args, out var error);
if (options is null)
{
    Console.Error.WriteLine($"treecast: {error}");
    if (args.Contains("--json"))
    {
        Console.Out.WriteLine(StandaloneRun.RefusedJson(error!, isDeadlineRun: args.Contains("--workload-seconds")));
    }

    return 2;
}

return await new StandaloneRun(options).ExecuteAsync();
