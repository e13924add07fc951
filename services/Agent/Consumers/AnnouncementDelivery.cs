using MassTransit;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>
/// How the root's announcement reaches the other agents: each VMM of the tree gets its own <see cref="PendingTransferAnnounced"/>
/// carrying only its slice of the tree (<see cref="TreeSlices"/>: itself, its parents and its children in every stripe), sent to its own exchange
/// (<see cref="Addresses.Agent"/>), which only its queue is bound to and only its account may read. The whole tree would be
/// 13.8 MiB for every agent at 100,000 VMMs; a slice stays under a few KiB.
/// </summary>
public static class AnnouncementDelivery
{
    /// <summary>Sends in flight at once: enough to hide the broker's round trips, few enough not to flood it.</summary>
    public const int SendsAtOnce = 64;

    /// <summary>
    /// Sends <paramref name="announcement"/> (whole tree) as a slice to every VMM of its tree but the root, and an empty
    /// slice to each VMM of <paramref name="previous"/> (the tree announced before, if older) that the newer tree leaves
    /// out, so it stops the operation's streams. Returns the number of messages sent.
    /// </summary>
    public static async Task<int> SendAsync(
        ISendEndpointProvider sender,
        PendingTransferAnnounced announcement,
        VmmTree? previous,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(announcement);
        var tree = announcement.Tree;
        var members = tree.Nodes.Select(n => n.VmmId).ToHashSet(StringComparer.Ordinal);
        var leftOut = previous is not null && previous.Version < tree.Version
            ? previous.Nodes.Where(n => !members.Contains(n.VmmId)).Select(n => (n.VmmId, Slice: tree with { Nodes = [] }))
            : [];
        var deliveries = TreeSlices.Of(tree).Concat(leftOut).Where(d => d.VmmId != tree.RootVmmId);
        var sent = 0;
        await Parallel.ForEachAsync(
            deliveries,
            new ParallelOptions { MaxDegreeOfParallelism = SendsAtOnce, CancellationToken = cancellationToken },
            async (delivery, cancelled) =>
            {
                await SendOneAsync(sender, Addresses.Agent(delivery.VmmId), announcement with { Tree = delivery.Slice }, cancelled);
                Interlocked.Increment(ref sent);
            });
        return sent;
    }

    private static async Task SendOneAsync(ISendEndpointProvider sender, Uri address, PendingTransferAnnounced message, CancellationToken cancelled)
    {
        for (var attempt = 1; ; attempt++)
        {
            var endpoint = await sender.GetSendEndpoint(address);
            try
            {
                await endpoint.Send(message, cancelled);
                return;
            }
            catch (TransportUnavailableException) when (attempt < 3 && !cancelled.IsCancellationRequested)
            {
                // MassTransit caches 1,000 send endpoints; sending to more agents evicts and stops one another task
                // may just have been handed. Asked again, the cache makes a new one.
            }
        }
    }
}
