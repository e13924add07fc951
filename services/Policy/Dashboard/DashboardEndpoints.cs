using System.Text.Json;
using Treecast.Contracts;
using Treecast.Hosting.ApiAccess;
using Treecast.Policy.Api;
using Treecast.Policy.Operations;

namespace Treecast.Policy.Dashboard;

/// <summary>
/// The operators' live dashboard, served by the policy service: <c>GET /dashboard</c> is one page (no build step, no
/// third-party script) that reads two server-sent event streams, <c>GET /operations/stream</c> (the list, every 2 s) and
/// <c>GET /operations/{id}/stream</c> (one operation's document with its receivers' progress, every second until it
/// ends). Reads follow the API's reader policy; the page's Cancel button posts the operator's key to the cancel route.
/// </summary>
public static class DashboardEndpoints
{
    private static readonly TimeSpan ListEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan OperationEvery = TimeSpan.FromSeconds(1);

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect("/dashboard"));
        app.MapGet("/dashboard", () => Results.Stream(
            typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("Treecast.Policy.Dashboard.dashboard.html")!,
            "text/html; charset=utf-8"));

        app.MapGet("/operations/stream", async (HttpContext http, IOperationReadModel readModel, IOperationProgressStore progress, CancellationToken cancellationToken) =>
        {
            await StreamAsync(http, ListEvery, async () =>
            {
                var found = await readModel.ListAsync(new OperationQuery(null, null, null, 50), cancellationToken);
                var reports = await progress.ForOperationsAsync(found.Select(o => o.CorrelationId).ToList(), cancellationToken);
                return (found.Select(o => OperationSummaryView.From(o, reports[o.CorrelationId])).ToList(), false);
            }, cancellationToken);
        }).AllowReaders();

        app.MapGet("/operations/{id:guid}/stream", async (Guid id, HttpContext http, IOperationReadModel readModel, IOperationProgressStore progress, CancellationToken cancellationToken) =>
        {
            await StreamAsync<object>(http, OperationEvery, async () =>
            {
                if (await readModel.FindAsync(id, cancellationToken) is not { } operation)
                {
                    return (new { error = $"No broadcast operation {id} (yet)." }, false);
                }

                var document = OperationDetailView.From(operation, await progress.ForOperationAsync(id, cancellationToken), OperationEndpoints.Json);
                return (document, Enum.TryParse<OperationFinalState>(operation.CurrentState, out _));
            }, cancellationToken);
        }).AllowReaders();

        return app;
    }

    /// <summary>Writes <paramref name="read"/>'s answer as an SSE <c>data:</c> line every <paramref name="every"/> until the client leaves or it says it is the last.</summary>
    private static async Task StreamAsync<T>(HttpContext http, TimeSpan every, Func<Task<(T Value, bool Last)>> read, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // a proxy in front must not hold the stream back
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var (value, last) = await read();
                await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(value, OperationEndpoints.Json)}\n\n", cancellationToken);
                await http.Response.Body.FlushAsync(cancellationToken);
                if (last)
                {
                    await http.Response.WriteAsync("event: end\ndata: {}\n\n", cancellationToken);
                    return;
                }

                await Task.Delay(every, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The page closed or moved on.
        }
    }
}
