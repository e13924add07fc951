using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>One run of the forwarder to one child: stopped when the child is no longer this agent's, or the operation ends.</summary>
public sealed class ChildFeed
{
    private readonly CancellationTokenSource _stop = new();
    private string? _stopReason;

    internal ChildFeed(TreeNode child, int stripe, SiblingPace pace)
    {
        Child = child;
        Stripe = stripe;
        Pace = pace;
    }

    public TreeNode Child { get; }

    /// <summary>The stripe this run pushes (0 in an operation of one stripe).</summary>
    public int Stripe { get; }

    /// <summary>Shared with the forwarders to the same parent's other children of the operation.</summary>
    public SiblingPace Pace { get; }

    /// <summary>The forwarder of this run once it started (its <see cref="ChunkForwarder.BytesSent"/> counts this run's bytes).</summary>
    public ChunkForwarder? Forwarder { get; internal set; }

    public Task Run { get; internal set; } = Task.CompletedTask;

    public CancellationToken Stopping => _stop.Token;

    /// <summary>Why the run was stopped; null while it was not.</summary>
    public string? StopReason => Volatile.Read(ref _stopReason);

    public bool IsRunning => !Run.IsCompleted && StopReason is null;

    public long BytesSent => Forwarder?.BytesSent ?? 0;

    internal void Stop(string reason)
    {
        if (Interlocked.CompareExchange(ref _stopReason, reason, null) is null)
        {
            _stop.Cancel();
        }
    }
}
