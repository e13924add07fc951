using Microsoft.Extensions.Logging;
using Treecast.Agent.Transfer.Striping;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>A parent whose stream broke and never came back: reported, so the operation can give this agent another parent.</summary>
public sealed partial class Receiver
{
    /// <summary>
    /// The agent restarted and reloaded this unfinished receive: it waits for a parent's stream in every stripe not yet
    /// complete (each parent's forwarder retries), and reports a parent unreachable if none comes within the grace period.
    /// </summary>
    public void AwaitParent()
    {
        var waiting = new List<Lane>();
        lock (_gate)
        {
            foreach (var lane in _lanes.Where(l => l.Active is null && !l.AllVerified))
            {
                lane.ParentLostAt = _timeProvider.GetUtcNow();
                waiting.Add(lane);
            }
        }

        waiting.ForEach(lane => SetParentGrace(lane, _settings.ParentGracePeriod));
    }

    /// <summary>A stream ended; when it broke before its stripe completed and nothing took over, the parent's grace period starts.</summary>
    private void Release(Admission admission)
    {
        var lane = _lanes[admission.Stripe];
        var broken = false;
        lock (_gate)
        {
            if (lane.Active == admission)
            {
                lane.Active = null;
                broken = !lane.AllVerified && FailureReason is null && !_stopping.IsCancellationRequested;
                if (broken)
                {
                    lane.ParentLostAt = _timeProvider.GetUtcNow();
                }
            }
        }

        lane.StreamLock.Release();
        if (broken)
        {
            SetParentGrace(lane, _settings.ParentGracePeriod);
        }
    }

    private static void SetParentGrace(Lane lane, TimeSpan due)
    {
        try
        {
            lane.ParentGrace.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile.
        }
    }

    /// <summary>
    /// No stream from a stripe's parent came back in time: the operation is told, so it can give this agent another
    /// parent. Told once per parent: the other stripes waiting on the same parent are covered by the same report.
    /// </summary>
    private void OnParentGraceElapsed(Lane lane)
    {
        DateTimeOffset since;
        string parent;
        lock (_gate)
        {
            if (lane.Active is not null || lane.ParentLostAt is not { } lostAt
                || StripeLayout.ParentOf(_announcement.Tree, VmmId, lane.Stripe) is not { } current
                || lane.AllVerified || FailureReason is not null || _stopping.IsCancellationRequested)
            {
                return;
            }

            since = lostAt;
            parent = current;
            foreach (var same in _lanes.Where(l => l.Active is null && StripeLayout.ParentOf(_announcement.Tree, VmmId, l.Stripe) == current))
            {
                same.ParentLostAt = null;
            }
        }

        var held = BytesReceived;
        var reason = $"no stream from {parent} since {since:O}, holding {held} bytes; none came back within {_settings.ParentGracePeriod.TotalSeconds:F0} s";
        _logger.LogWarning("Parent {ParentVmmId} of {VmmId} unreachable for operation {OperationId}: {Reason}", parent, VmmId, OperationId, reason);
        _ = _events.PublishQuietlyAsync(new ParentUnreachable(OperationId, VmmId, parent, held, reason), _logger, VmmId, _stopping.Token);
    }
}
