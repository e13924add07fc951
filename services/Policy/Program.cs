using Treecast.Hosting;
using Treecast.Policy;
using Treecast.Policy.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPolicyService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.MapPolicyEndpoints();
app.MapOperationEndpoints();
app.Run();
