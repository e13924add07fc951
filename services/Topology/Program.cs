using Treecast.Hosting;
using Treecast.Topology;
using Treecast.Topology.Endpoints;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTopologyService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.MapTopologyEndpoints();
app.Run();
