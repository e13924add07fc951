using Treecast.Policy;
using Treecast.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPolicyService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
