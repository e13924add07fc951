using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Tests.Evaluation;

public sealed class When_events_match_no_policy
{
    private static readonly DateTimeOffset Start = new(2025, 11, 25, 8, 0, 0, TimeSpan.Zero);
    private readonly UnmatchedEvents _unmatched = new();
    private readonly SummaryLines _lines = new();

    [Fact]
    public void Should_count_every_one_and_keep_the_latest_newest_first()
    {
        var count = UnmatchedEvents.RecentCapacity + 6;
        for (var n = 1; n <= count; n++)
        {
            _unmatched.Record(Minor($"host-{n:D3}", $"e-{n}"), Start.AddSeconds(n));
        }

        var (total, recent) = _unmatched.Snapshot();
        Assert.Equal(count, total);
        Assert.Equal(UnmatchedEvents.RecentCapacity, recent.Count);
        Assert.Equal($"host-{count:D3}", recent[0].Vmm);
        Assert.Equal($"e-{count}", recent[0].EventId);
        Assert.Equal(Start.AddSeconds(count), recent[0].ObservedAt);
        Assert.Equal("host-007", recent[^1].Vmm);
    }

    [Fact]
    public void Should_keep_nothing_before_the_first()
    {
        var (total, recent) = _unmatched.Snapshot();

        Assert.Equal(0, total);
        Assert.Empty(recent);
    }

    [Fact]
    public void Should_say_in_one_line_how_many_since_the_last_summary()
    {
        var summary = Summary(TimeSpan.FromSeconds(30));
        _unmatched.Record(Minor("host-01", "e-1"), Start);
        _unmatched.Record(Minor("host-02", "e-2"), Start);
        _unmatched.Record(Minor("host-03", null), Start);

        Assert.Equal(3, summary.Summarize());

        var line = Assert.Single(_lines.Lines);
        Assert.Contains("3 event(s) matched no policy in the last 00:00:30 (3 since start)", line, StringComparison.Ordinal);
        Assert.EndsWith("latest: host.degraded (minor) on host-03", line, StringComparison.Ordinal);

        _unmatched.Record(Minor("host-04", "e-4"), Start);
        Assert.Equal(1, summary.Summarize());
        Assert.Contains("1 event(s) matched no policy in the last 00:00:30 (4 since start)", _lines.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Should_log_nothing_when_nothing_was_counted()
    {
        var summary = Summary(TimeSpan.FromSeconds(30));
        _unmatched.Record(Minor("host-01", "e-1"), Start);
        summary.Summarize();

        Assert.Equal(0, summary.Summarize());
        Assert.Single(_lines.Lines);
    }

    [Fact]
    public async Task Should_summarise_once_per_interval_on_its_own()
    {
        var clock = new FakeTimeProvider(Start);
        var summary = Summary(TimeSpan.FromMinutes(1), clock);
        await summary.StartAsync(CancellationToken.None);
        try
        {
            _unmatched.Record(Minor("host-01", "e-1"), Start);

            // The loop starts on its own thread: each interval that passes before its timer exists is lost, so several pass.
            // Intervals with nothing new counted log nothing.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (_lines.Lines.Count == 0 && DateTime.UtcNow < deadline)
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                await Task.Delay(20);
            }

            Assert.Contains("1 event(s) matched no policy in the last 00:01:00", Assert.Single(_lines.Lines), StringComparison.Ordinal);
        }
        finally
        {
            await summary.StopAsync(CancellationToken.None);
        }
    }

    private UnmatchedEventsSummary Summary(TimeSpan interval, TimeProvider? clock = null) => new(
        _unmatched,
        clock ?? new FakeTimeProvider(Start),
        Options.Create(new PolicyOptions { UnmatchedSummaryInterval = interval }),
        _lines);

    private static ObservedEvent Minor(string vmm, string? eventId) =>
        new(EventTypes.HostDegraded, vmm, "minor", null, eventId, new Dictionary<string, string>());

    /// <summary>The summary's log lines at Information and up, as an operator reads them.</summary>
    private sealed class SummaryLines : ILogger<UnmatchedEventsSummary>
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (_lines)
                {
                    _lines.Add(formatter(state, exception));
                }
            }
        }
    }
}
