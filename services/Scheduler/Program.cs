using Treecast.Hosting;
using Treecast.Scheduler;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSchedulerService();
builder.AddTreecastBus();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
