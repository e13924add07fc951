using MassTransit;
using Treecast.Contracts;

namespace Treecast.Scheduler.Tests;

/// <summary>Stands in for the saga: records what the scheduler published.</summary>
public sealed class TimerFiredProbe(FiredTimers fired) : IConsumer<TimerFired>
{
    public Task Consume(ConsumeContext<TimerFired> context)
    {
        fired.Add(context.Message);
        return Task.CompletedTask;
    }
}
