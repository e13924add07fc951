using Treecast.Agent.Transfer.Striping;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// This agent's forwarders of one operation: one per child of the tree it holds now (per child and stripe, in a striped
/// operation: see <see cref="StripeLayout"/>), each a stream of its own at its own pace. A newer tree stops the forwarders to children no longer this agent's and starts forwarders to its new ones;
/// asked to start again once every forwarder ended, it starts them all again (a child holding everything re-verifies
/// at once).
/// </summary>
/// <param name="stripes">The operation's stripes as this agent laid them out (<see cref="StripeLayout"/>), fixed for its lifetime.</param>
public sealed class Forwarding(string vmmId, int stripes, Func<PendingTransferAnnounced, ChildFeed, Task> run)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string VmmId, int Stripe), ChildFeed> _current = [];
    private readonly List<ChildFeed> _all = [];
    private readonly SiblingPace _pace = new(SiblingPace.DefaultWindowBytes);
    private PendingTransferAnnounced? _announcement;

    /// <summary>Completes when every forwarder running now has ended (successfully or not).</summary>
    public Task Completion
    {
        get
        {
            lock (_gate)
            {
                return Task.WhenAll(_current.Values.Select(f => f.Run));
            }
        }
    }

    public bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _current.Values.Any(f => f.IsRunning);
            }
        }
    }

    /// <summary>
    /// Feeds the children of this agent in <paramref name="announcement"/>'s tree: a forwarder to a child that is no
    /// longer this agent's stops; a child without a running forwarder gets one (resuming where the child's bytes end).
    /// </summary>
    public void Follow(PendingTransferAnnounced announcement)
    {
        lock (_gate)
        {
            _announcement = announcement;
            var children = ChildrenOf(announcement).ToDictionary(c => (c.Child.VmmId, c.Stripe));
            foreach (var (key, feed) in _current.ToList())
            {
                if (!children.TryGetValue(key, out var child) || child.Child.GrpcEndpoint != feed.Child.GrpcEndpoint)
                {
                    feed.Stop($"tree version {announcement.Tree.Version} no longer makes it a child of {vmmId} at that endpoint");
                    _current.Remove(key);
                }
            }

            Start(announcement, children.Where(c => !_current.TryGetValue(c.Key, out var feed) || !feed.IsRunning).Select(c => c.Value).ToList());
        }
    }

    /// <summary>Starts every forwarder again when none runs (a transfer asked to start again); false while one still runs, or without children.</summary>
    public bool RestartIfIdle()
    {
        lock (_gate)
        {
            var children = _announcement is null ? [] : ChildrenOf(_announcement).ToList();
            if (children.Count == 0 || _current.Values.Any(f => f.IsRunning))
            {
                return false;
            }

            Start(_announcement!, children);
            return true;
        }
    }

    /// <summary>Stops every forwarder (the operation ended, was cancelled, or this agent left its tree).</summary>
    public void Stop(string reason)
    {
        lock (_gate)
        {
            foreach (var feed in _current.Values)
            {
                feed.Stop(reason);
            }

            _current.Clear();
        }
    }

    /// <summary>Bytes pushed to the child over every run of its forwarder.</summary>
    public long BytesSentTo(string childVmmId)
    {
        lock (_gate)
        {
            return _all.Where(f => f.Child.VmmId == childVmmId).Sum(f => f.BytesSent);
        }
    }

    /// <summary>This agent's children in the announcement's tree, each with the stripe it is fed (every stripe, in a striped operation).</summary>
    private IEnumerable<(TreeNode Child, int Stripe)> ChildrenOf(PendingTransferAnnounced announcement) =>
        StripeLayout.ChildrenInEveryStripe(announcement.Tree, vmmId, stripes);

    private void Start(PendingTransferAnnounced announcement, IReadOnlyList<(TreeNode Child, int Stripe)> children)
    {
        var feeds = children.Select(c => new ChildFeed(c.Child, c.Stripe, _pace)).ToList();
        // Every new run is in the pace before any of them starts, at the image's beginning until its forwarder says
        // where it resumes: a run that got going sooner (its sources opened first, its thread ran first) must not run
        // ahead of a sibling that has not.
        foreach (var feed in feeds)
        {
            _pace.Report(feed, 0);
            _current[(feed.Child.VmmId, feed.Stripe)] = feed;
            _all.Add(feed);
        }

        foreach (var feed in feeds)
        {
            feed.Run = RunInPaceAsync(announcement, feed);
        }
    }

    private async Task RunInPaceAsync(PendingTransferAnnounced announcement, ChildFeed feed)
    {
        try
        {
            await run(announcement, feed);
        }
        finally
        {
            // However the run ended (finished, failed before its forwarder started, stopped), it holds nobody back.
            _pace.Leave(feed);
        }
    }
}
