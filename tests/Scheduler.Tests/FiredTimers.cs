using System.Collections.Concurrent;
using Treecast.Contracts;

namespace Treecast.Scheduler.Tests;

/// <summary>Every <see cref="TimerFired"/> the test bus delivered, to wait on without the harness's inactivity timeout.</summary>
public sealed class FiredTimers
{
    private readonly ConcurrentQueue<TimerFired> _fired = new();

    public void Add(TimerFired fired) => _fired.Enqueue(fired);

    public IReadOnlyList<TimerFired> For(Guid timerId) => [.. _fired.Where(f => f.TimerId == timerId)];

    /// <summary>The first firing of the timer, or null when it has not fired within <paramref name="window"/>.</summary>
    public async Task<TimerFired?> WaitForAsync(Guid timerId, TimeSpan window)
    {
        var deadline = DateTimeOffset.UtcNow + window;
        while (true)
        {
            var fired = For(timerId);
            if (fired.Count > 0)
            {
                return fired[0];
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                return null;
            }

            await Task.Delay(25);
        }
    }
}
