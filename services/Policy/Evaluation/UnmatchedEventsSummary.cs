using Microsoft.Extensions.Options;

namespace Treecast.Policy.Evaluation;

/// <summary>
/// One log line per <see cref="PolicyOptions.UnmatchedSummaryInterval"/> for the events no policy matched (none when
/// there were none), where each such event once had a line of its own.
/// </summary>
public sealed class UnmatchedEventsSummary(
    UnmatchedEvents unmatched,
    TimeProvider timeProvider,
    IOptions<PolicyOptions> options,
    ILogger<UnmatchedEventsSummary> logger) : BackgroundService
{
    private readonly TimeSpan _interval = options.Value.UnmatchedSummaryInterval;
    private long _summarized;

    /// <summary>Logs the events counted since the last summary; the background loop calls it every interval.</summary>
    /// <returns>How many events the line reported (0: no line).</returns>
    public long Summarize()
    {
        var (total, recent) = unmatched.Snapshot();
        var counted = total - Interlocked.Exchange(ref _summarized, total);
        if (counted > 0)
        {
            logger.LogInformation(
                "{Count} event(s) matched no policy in the last {Interval} ({Total} since start); latest: {Latest}",
                counted,
                _interval,
                total,
                recent[0].Description);
        }

        return counted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Summarize();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown: what was counted since the last line is said once more.
            Summarize();
        }
    }
}
