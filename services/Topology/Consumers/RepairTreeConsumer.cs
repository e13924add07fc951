using MassTransit;
using Treecast.Contracts;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Consumers;

/// <summary>
/// Repairs the tree of a running operation after a VMM was lost or came back: a new tree version, built like any
/// tree, over the operation's members that the registry holds live (with the endpoints they last announced).
/// </summary>
public sealed class RepairTreeConsumer(
    IVmmRegistry registry,
    TreeResolver resolver,
    ILogger<RepairTreeConsumer> logger) : IConsumer<RepairTree>
{
    public async Task Consume(ConsumeContext<RepairTree> context)
    {
        var request = context.Message;
        var asked = (request.Members ?? []).Append(request.RootVmmId).ToHashSet(StringComparer.Ordinal);
        var members = (await registry.ListAsync(context.CancellationToken)).Where(v => asked.Contains(v.VmmId)).ToList();

        // Above the operation's tree even if this service restarted with its versions in memory since.
        var tree = await resolver.ResolveAsync(
            request.OperationId,
            request.RootVmmId,
            request.FanOut,
            request.Stripes,
            chunkSizeBytes: 0, // a repair keeps the operation's fan-out, so the chunk size is not weighed
            members,
            request.PreviousVersion,
            context,
            context.CancellationToken);
        if (tree is null)
        {
            return;
        }

        var left = asked.Where(m => tree.Find(m) is null).Order(StringComparer.Ordinal).ToList();
        logger.LogInformation(
            "Repaired the tree of operation {OperationId}: version {Version} (was {PreviousVersion}) rooted at {RootVmmId} over {VmmCount} VMMs, {CrossRackLinks} cross-rack links; left out {Left}",
            request.OperationId,
            tree.Version,
            request.PreviousVersion,
            tree.RootVmmId,
            tree.Nodes.Count,
            ProximityPath.CrossLinks(tree, ProximityPath.RackLevels),
            left);
        await context.Publish(new TreeRepaired(request.OperationId, tree, left));
    }
}
