using Microsoft.Extensions.Time.Testing;
using Treecast.Agent.Transfer;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>An agent's send limit paces chunks over all its children: a second's worth of bytes a second, no more.</summary>
public sealed class When_an_agent_limits_what_it_sends
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Should_let_the_first_chunk_go_at_once_and_hold_the_next_for_its_share_of_a_second()
    {
        var clock = new FakeTimeProvider();
        var limit = new SendRateLimit(2 * MiB, clock);

        var first = limit.WaitAsync(MiB, CancellationToken.None).AsTask();
        var second = limit.WaitAsync(MiB, CancellationToken.None).AsTask();
        var third = limit.WaitAsync(MiB, CancellationToken.None).AsTask();

        Assert.True(first.IsCompletedSuccessfully);
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await second;
        Assert.False(third.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(500));
        await third;
    }

    [Fact]
    public async Task Should_not_bank_idle_time_as_a_burst()
    {
        var clock = new FakeTimeProvider();
        var limit = new SendRateLimit(MiB, clock);
        await limit.WaitAsync(MiB, CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(10));
        var afterIdle = limit.WaitAsync(MiB, CancellationToken.None).AsTask();
        var next = limit.WaitAsync(MiB, CancellationToken.None).AsTask();

        Assert.True(afterIdle.IsCompletedSuccessfully);
        Assert.False(next.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await next;
    }

    [Fact]
    public void Should_never_wait_without_a_limit()
    {
        Assert.True(SendRateLimit.None.WaitAsync(64 * MiB, CancellationToken.None).IsCompletedSuccessfully);
    }
}
