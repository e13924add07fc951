using Treecast.Agent;
using Treecast.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddAgentService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
