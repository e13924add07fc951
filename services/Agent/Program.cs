using Treecast.Agent;
using Treecast.Hosting;

// The slim builder: the agent's own HTTP endpoints are health and metrics on plain HTTP (its transfers have a Kestrel of
// their own, TransferServer), so it loads no IIS integration, HTTP/3, regex route constraints or OpenAPI (MVC's API
// explorer), each of which an agent paid for in resident memory beside the host's VMs. Kestrel endpoints configured
// for HTTPS still work (UseKestrelHttpsConfiguration).
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseKestrelHttpsConfiguration();
builder.AddServiceDefaults(describeHttpApi: false);
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
