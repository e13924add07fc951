using MassTransit;
using Treecast.Contracts;

namespace Treecast.Standalone;

/// <summary>Feeds the bus events the embedded run shows into the <see cref="RunObserver"/>.</summary>
public sealed class RunObserverConsumer(RunObserver observer) :
    IConsumer<VmmRegistered>,
    IConsumer<BroadcastRequested>,
    IConsumer<TreeResolved>,
    IConsumer<VmsPaused>,
    IConsumer<TransferProgressed>,
    IConsumer<VmsReceived>,
    IConsumer<OperationStepFailed>,
    IConsumer<WorkloadStarted>,
    IConsumer<WorkloadCompleted>,
    IConsumer<DeadlineWatchRequested>,
    IConsumer<BroadcastOperationFinished>
{
    public Task Consume(ConsumeContext<VmmRegistered> context) => Run(() => observer.OnRegistered(context.Message));

    public Task Consume(ConsumeContext<BroadcastRequested> context) => Run(() => observer.OnRequested(context.Message));

    public Task Consume(ConsumeContext<TreeResolved> context) => Run(() => observer.OnTree(context.Message));

    public Task Consume(ConsumeContext<VmsPaused> context) => Run(() => observer.OnPaused(context.Message));

    public Task Consume(ConsumeContext<TransferProgressed> context) => Run(() => observer.OnProgress(context.Message));

    public Task Consume(ConsumeContext<VmsReceived> context) => Run(() => observer.OnReceived(context.Message));

    public Task Consume(ConsumeContext<OperationStepFailed> context) => Run(() => observer.OnStepFailed(context.Message));

    public Task Consume(ConsumeContext<WorkloadStarted> context) => Run(() => observer.OnWorkloadStarted(context.Message));

    public Task Consume(ConsumeContext<WorkloadCompleted> context) => Run(() => observer.OnWorkloadCompleted(context.Message));

    public Task Consume(ConsumeContext<DeadlineWatchRequested> context) => Run(() => observer.OnWatch(context.Message));

    public Task Consume(ConsumeContext<BroadcastOperationFinished> context) => Run(() => observer.OnFinished(context.Message));

    private static Task Run(Action action)
    {
        action();
        return Task.CompletedTask;
    }
}
