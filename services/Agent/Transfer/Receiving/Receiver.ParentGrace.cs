using Microsoft.Extensions.Logging;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>A parent whose stream broke and never came back: reported, so the operation can give this agent another parent.</summary>
public sealed partial class Receiver
{
    /// <summary>
    /// The agent restarted and reloaded this unfinished receive: it waits for a parent's stream (its parent's forwarder
    /// retries), and reports its parent unreachable if none comes within the grace period.
    /// </summary>
    public void AwaitParent()
    {
        lock (_gate)
        {
            if (_active is not null || AllVerified)
            {
                return;
            }

            _parentLostAt = _timeProvider.GetUtcNow();
        }

        SetParentGrace(_settings.ParentGracePeriod);
    }

    /// <summary>A stream ended; when it broke before the receive completed and nothing took over, the parent's grace period starts.</summary>
    private void Release(Admission admission)
    {
        var broken = false;
        lock (_gate)
        {
            if (_active == admission)
            {
                _active = null;
                broken = !AllVerified && FailureReason is null && !_stopping.IsCancellationRequested;
                if (broken)
                {
                    _parentLostAt = _timeProvider.GetUtcNow();
                }
            }
        }

        _streamLock.Release();
        if (broken)
        {
            SetParentGrace(_settings.ParentGracePeriod);
        }
    }

    private void SetParentGrace(TimeSpan due)
    {
        try
        {
            _parentGrace.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile.
        }
    }

    /// <summary>No stream from a parent came back in time: the operation is told, so it can give this agent another parent.</summary>
    private void OnParentGraceElapsed()
    {
        DateTimeOffset since;
        string parent;
        lock (_gate)
        {
            if (_active is not null || _parentLostAt is not { } lostAt || _announcement.Tree.Find(VmmId)?.ParentVmmId is not { } current
                || AllVerified || FailureReason is not null || _stopping.IsCancellationRequested)
            {
                return;
            }

            since = lostAt;
            parent = current;
            _parentLostAt = null;
        }

        var held = BytesReceived;
        var reason = $"no stream from {parent} since {since:O}, holding {held} bytes; none came back within {_settings.ParentGracePeriod.TotalSeconds:F0} s";
        _logger.LogWarning("Parent {ParentVmmId} of {VmmId} unreachable for operation {OperationId}: {Reason}", parent, VmmId, OperationId, reason);
        _ = _events.PublishQuietlyAsync(new ParentUnreachable(OperationId, VmmId, parent, held, reason), _logger, VmmId, _stopping.Token);
    }
}
