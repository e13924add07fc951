using MassTransit;
using Microsoft.Extensions.Options;
using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Trees;

/// <summary>
/// Builds the tree an operation asks for (a first tree or a repair) with a new version and records it; when none
/// can be built, answers the operation with <see cref="TreeResolutionFailed"/> itself.
/// </summary>
public sealed class TreeResolver(
    ITreeVersions versions,
    TreeBuilder builder,
    IOptions<TopologyOptions> options,
    ILogger<TreeResolver> logger)
{
    /// <param name="fanOut">As asked; zero for the configured default.</param>
    /// <param name="stripes">As asked; zero for the configured default.</param>
    /// <param name="vmms">The candidates, lost ones included (left out, but a lost root is named properly).</param>
    /// <param name="floor">A version the new tree must be above, besides every version handed out before.</param>
    /// <returns>The recorded tree, or null when the operation was answered with the reason there is none.</returns>
    public async Task<VmmTree?> ResolveAsync(
        Guid operationId,
        string rootVmmId,
        int fanOut,
        int stripes,
        IReadOnlyCollection<RegisteredVmm> vmms,
        long floor,
        IPublishEndpoint publish,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publish);
        VmmTree tree;
        try
        {
            // A version is taken before building, so a failed request leaves a gap: versions only promise to rise.
            var version = await versions.NextVersionAboveAsync(floor, cancellationToken).ConfigureAwait(false);
            tree = builder.Build(
                rootVmmId,
                fanOut == 0 ? options.Value.DefaultFanOut : fanOut,
                vmms,
                version,
                stripes == 0 ? options.Value.DefaultStripes : stripes);
        }
        catch (TreeBuildException ex)
        {
            // The requester's mistake, not ours: answer it instead of failing the message into the error queue.
            logger.LogWarning(
                "Could not build a tree for operation {OperationId} rooted at {RootVmmId}: {Reason}",
                operationId,
                rootVmmId,
                ex.Message);
            await publish.Publish(new TreeResolutionFailed(operationId, rootVmmId, ex.Message), cancellationToken).ConfigureAwait(false);
            return null;
        }

        await versions.RecordAsync(tree, cancellationToken).ConfigureAwait(false);
        return tree;
    }
}
