using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// This agent's forwarders of one operation: one per child of the tree it holds now, each a stream of its own at its own
/// pace. A newer tree stops the forwarders to children no longer this agent's and starts forwarders to its new ones;
/// asked to start again once every forwarder ended, it starts them all again (a child holding everything re-verifies
/// at once).
/// </summary>
public sealed class Forwarding(string vmmId, Func<PendingTransferAnnounced, ChildFeed, Task> run)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ChildFeed> _current = new(StringComparer.Ordinal);
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
            var children = announcement.Tree.ChildrenOf(vmmId).ToDictionary(c => c.VmmId, StringComparer.Ordinal);
            foreach (var feed in _current.Values.ToList())
            {
                if (!children.TryGetValue(feed.Child.VmmId, out var child) || child.GrpcEndpoint != feed.Child.GrpcEndpoint)
                {
                    feed.Stop($"tree version {announcement.Tree.Version} no longer makes it a child of {vmmId} at that endpoint");
                    _current.Remove(feed.Child.VmmId);
                }
            }

            Start(announcement, children.Values.Where(c => !_current.TryGetValue(c.VmmId, out var feed) || !feed.IsRunning).ToList());
        }
    }

    /// <summary>Starts every forwarder again when none runs (a transfer asked to start again); false while one still runs, or without children.</summary>
    public bool RestartIfIdle()
    {
        lock (_gate)
        {
            var children = _announcement?.Tree.ChildrenOf(vmmId).ToList() ?? [];
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

    private void Start(PendingTransferAnnounced announcement, IReadOnlyList<TreeNode> children)
    {
        var feeds = children.Select(child => new ChildFeed(child, _pace)).ToList();
        // Every new run is in the pace before any of them starts, at the image's beginning until its forwarder says
        // where it resumes: a run that got going sooner (its sources opened first, its thread ran first) must not run
        // ahead of a sibling that has not.
        foreach (var feed in feeds)
        {
            _pace.Report(feed, 0);
            _current[feed.Child.VmmId] = feed;
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
