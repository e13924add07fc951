using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Treecast.Contracts;
using Treecast.Hosting.Telemetry;

namespace Treecast.Policy.Operations;

/// <summary>
/// Counts every operation once by the final state it reached, and records how long each of its states lasted (from
/// the saga's history) as <c>treecast.operation.step.duration</c>. Outside the saga on purpose: a saga activity that
/// retries after a concurrency conflict would count twice; here a re-published outcome of the same operation is ignored.
/// </summary>
public sealed class OperationMetricsConsumer(IOperationReadModel operations) : IConsumer<BroadcastOperationFinished>
{
    /// <summary>Operations counted lately; the saga re-publishes an outcome only when its request is redelivered.</summary>
    private static readonly ConcurrentDictionary<Guid, long> Counted = new();
    private const int Remembered = 10_000;

    public async Task Consume(ConsumeContext<BroadcastOperationFinished> context)
    {
        var finished = context.Message;
        if (!Counted.TryAdd(finished.OperationId, Stopwatch.GetTimestamp()))
        {
            return;
        }

        if (Counted.Count > Remembered)
        {
            foreach (var old in Counted.OrderBy(c => c.Value).Take(Remembered / 10).Select(c => c.Key).ToList())
            {
                Counted.TryRemove(old, out _);
            }
        }

        var mode = finished.Mode.ToString();
        TreecastMetrics.OperationsFinished.Add(1, new("state", finished.State.ToString()), new("mode", mode));
        var history = (await operations.FindAsync(finished.OperationId, context.CancellationToken))?.History ?? [];
        for (var i = 0; i + 1 < history.Count; i++)
        {
            var lasted = history[i + 1].At - history[i].At;
            if (lasted >= TimeSpan.Zero && history[i].State != history[i + 1].State)
            {
                TreecastMetrics.StepDuration.Record(lasted.TotalSeconds, new("step", history[i].State), new("mode", mode));
            }
        }
    }
}
