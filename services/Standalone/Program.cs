using Treecast.Agent;
using Treecast.Hosting;
using Treecast.Policy;
using Treecast.Scheduler;
using Treecast.Topology;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTopologyService();
builder.AddPolicyService();
builder.AddSchedulerService();
builder.AddAgentService();
builder.AddTreecastBus();
var app = builder.Build();
app.Run();
