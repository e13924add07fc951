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
    /// <param name="fanOut">As asked; zero for the configured default, or when none is configured the fan-out
    /// <see cref="FanOutChoice"/> picks for the root's image size.</param>
    /// <param name="stripes">As asked; zero for the configured default.</param>
    /// <param name="chunkSizeBytes">The operation's chunk size (for <see cref="FanOutChoice"/>); zero for the default.</param>
    /// <param name="vmms">The candidates, lost ones included (left out, but a lost root is named properly).</param>
    /// <param name="floor">A version the new tree must be above, besides every version handed out before.</param>
    /// <returns>The recorded tree, or null when the operation was answered with the reason there is none.</returns>
    public async Task<VmmTree?> ResolveAsync(
        Guid operationId,
        string rootVmmId,
        int fanOut,
        int stripes,
        int chunkSizeBytes,
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
                fanOut == 0 ? DefaultFanOut(rootVmmId, chunkSizeBytes, vmms) : fanOut,
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

    private int DefaultFanOut(string rootVmmId, int chunkSizeBytes, IReadOnlyCollection<RegisteredVmm> vmms)
    {
        if (options.Value.DefaultFanOut > 0)
        {
            return options.Value.DefaultFanOut;
        }

        // The root's heartbeats name its VMs' sizes: the images a broadcast from it is about to send, near enough.
        var imageBytes = vmms.FirstOrDefault(v => v.VmmId == rootVmmId)?.Vms?.Sum(vm => Math.Max(vm.Bytes, 0)) ?? 0;
        var receivers = vmms.Count(v => !v.IsLost && v.VmmId != rootVmmId);
        return FanOutChoice.For(receivers, imageBytes, chunkSizeBytes > 0 ? chunkSizeBytes : ChunkSizes.DefaultBytes);
    }
}
