using MassTransit;
using Treecast.Contracts;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Consumers;

/// <summary>Answers a tree request with a new tree version over the live VMMs, or with the reason none can be built.</summary>
public sealed class ResolveTreeConsumer(
    IVmmRegistry registry,
    TreeResolver resolver,
    ILogger<ResolveTreeConsumer> logger) : IConsumer<ResolveTree>
{
    public async Task Consume(ConsumeContext<ResolveTree> context)
    {
        var request = context.Message;
        var vmms = await registry.ListAsync(context.CancellationToken);
        var tree = await resolver.ResolveAsync(request.OperationId, request.RootVmmId, request.FanOut, request.Stripes, request.ChunkSizeBytes, vmms, 0, context, context.CancellationToken);
        if (tree is null)
        {
            return;
        }

        logger.LogInformation(
            "Built tree {Version} rooted at {RootVmmId} over {VmmCount} VMMs, fan-out {FanOut} ({Asked}), in {Stripes} stripes, {CrossRackLinks} cross-rack links (stripe 0)",
            tree.Version,
            tree.RootVmmId,
            tree.Nodes.Count,
            tree.FanOut,
            request.FanOut == 0 ? "the default" : "as asked",
            tree.Stripes,
            ProximityPath.CrossLinks(tree, ProximityPath.RackLevels));
        await context.Publish(new TreeResolved(request.OperationId, tree));
    }
}
