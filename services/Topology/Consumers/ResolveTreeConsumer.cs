using MassTransit;
using Microsoft.Extensions.Options;
using Treecast.Contracts;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Consumers;

/// <summary>Answers a tree request with a new tree version over the live VMMs, or with the reason none can be built.</summary>
public sealed class ResolveTreeConsumer(
    IVmmRegistry registry,
    ITreeVersions versions,
    TreeBuilder builder,
    IOptions<TopologyOptions> options,
    ILogger<ResolveTreeConsumer> logger) : IConsumer<ResolveTree>
{
    private const int RackLevels = 3;

    public async Task Consume(ConsumeContext<ResolveTree> context)
    {
        var request = context.Message;
        var fanOut = request.FanOut == 0 ? options.Value.DefaultFanOut : request.FanOut;
        var vmms = await registry.ListAsync(context.CancellationToken);

        VmmTree tree;
        try
        {
            // A version is taken before building, so a failed request leaves a gap: versions only promise to rise.
            tree = builder.Build(request.RootVmmId, fanOut, vmms, await versions.NextVersionAsync(context.CancellationToken));
        }
        catch (TreeBuildException ex)
        {
            // The requester's mistake, not ours: answer it instead of failing the message into the error queue.
            logger.LogWarning(
                "Could not build a tree for operation {OperationId} rooted at {RootVmmId}: {Reason}",
                request.OperationId,
                request.RootVmmId,
                ex.Message);
            await context.Publish(new TreeResolutionFailed(request.OperationId, request.RootVmmId, ex.Message));
            return;
        }

        await versions.RecordAsync(tree, context.CancellationToken);
        logger.LogInformation(
            "Built tree {Version} rooted at {RootVmmId} over {VmmCount} VMMs, {CrossRackLinks} cross-rack links",
            tree.Version,
            tree.RootVmmId,
            tree.Nodes.Count,
            ProximityPath.CrossLinks(tree, RackLevels));
        await context.Publish(new TreeResolved(request.OperationId, tree));
    }
}
