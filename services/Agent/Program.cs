using Treecast.Agent;
using Treecast.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
try
{
    builder.AddAgentService();
}
catch (InvalidAgentOptionsException e)
{
    // One line that says what to set, not a stack trace.
    Console.Error.WriteLine($"treecast-agent: {e.Message}");
    return 2;
}

builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
return Environment.ExitCode;
