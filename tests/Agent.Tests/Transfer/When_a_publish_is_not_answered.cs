using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Transfer;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// An agent waits for one publish only so long: a publish that started as the broker went away must not stop the loop
/// that sends the next heartbeat (after a broker restart an agent kept consuming, yet topology judged it lost), nor keep
/// an event the operation needs from being published again.
/// </summary>
public sealed class When_a_publish_is_not_answered
{
    // Generous: the tests wait on outcomes, never on this as a timing.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_stop_waiting_for_a_publish_that_never_completes()
    {
        var never = new TaskCompletionSource();

        var published = await BoundedPublish.WithinAsync(never.Task, TimeSpan.FromMilliseconds(200), TimeProvider.System, CancellationToken.None).WaitAsync(Patience);

        Assert.False(published);
    }

    [Fact]
    public async Task Should_say_a_publish_that_completed_was_published()
    {
        Assert.True(await BoundedPublish.WithinAsync(Task.CompletedTask, TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task Should_pass_on_why_a_publish_failed()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            BoundedPublish.WithinAsync(Task.FromException(new InvalidOperationException("broker refused")), TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None));

        Assert.Equal("broker refused", error.Message);
    }

    [Fact]
    public async Task Should_stop_waiting_when_the_agent_stops()
    {
        using var stopping = new CancellationTokenSource();
        var never = new TaskCompletionSource();
        var waiting = BoundedPublish.WithinAsync(never.Task, TimeSpan.FromHours(1), TimeProvider.System, stopping.Token);

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Patience));
    }

    [Theory]
    [InlineData(1000, 3000)]
    [InlineData(2000, 6000)]
    [InlineData(200, 2000)]
    public void Should_allow_three_intervals_and_at_least_two_seconds(int intervalMs, int limitMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(limitMs), BoundedPublish.LimitFor(TimeSpan.FromMilliseconds(intervalMs)));
    }

    [Fact]
    public async Task Should_publish_an_event_again_when_the_bus_does_not_answer_the_first_attempt()
    {
        var sink = new FirstAttemptHangs();

        await sink.PublishQuietlyAsync("verified copy", NullLogger.Instance, "vmm-a", CancellationToken.None, TimeSpan.FromMilliseconds(200)).WaitAsync(Patience);

        Assert.Equal(2, sink.Attempts);
        Assert.Equal(["verified copy"], sink.Published);
    }

    /// <summary>The bus as it was caught by a broker going away: the first publish never completes, the next ones do.</summary>
    private sealed class FirstAttemptHangs : IEventSink
    {
        private readonly TaskCompletionSource _never = new();

        public int Attempts { get; private set; }

        public List<object> Published { get; } = [];

        public Task PublishAsync<T>(T message, CancellationToken cancellationToken)
            where T : class
        {
            if (++Attempts == 1)
            {
                return _never.Task;
            }

            Published.Add(message);
            return Task.CompletedTask;
        }
    }
}
