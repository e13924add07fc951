using Treecast.Scheduler;
using Treecast.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSchedulerService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
