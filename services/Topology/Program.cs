using Treecast.Topology;
using Treecast.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTopologyService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
