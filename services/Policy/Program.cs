using Treecast.Hosting;
using Treecast.Policy;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPolicyService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapPolicyService();
app.Run();
