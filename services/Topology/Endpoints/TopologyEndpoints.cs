using Treecast.Hosting.ApiAccess;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Endpoints;

/// <summary>Read-only HTTP views for operators: the registry and the latest tree (open unless <c>Api:ProtectReads</c>).</summary>
public static class TopologyEndpoints
{
    public static WebApplication MapTopologyEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/vmms", (IVmmRegistry registry, CancellationToken cancellationToken) => registry.ListAsync(cancellationToken)).AllowReaders();
        app.MapGet("/trees/latest", async (ITreeVersions versions, CancellationToken cancellationToken) =>
            await versions.LatestAsync(cancellationToken) is { } tree
                ? Results.Ok(tree)
                : Results.NotFound(new { error = "No tree has been built yet. Send a ResolveTree request to queue:topology first." }))
            .AllowReaders();
        return app;
    }
}
