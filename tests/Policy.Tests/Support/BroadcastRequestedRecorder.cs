using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Tests.Support;

public sealed class BroadcastRequestedRecorder(MessageRecorder recorder) : IConsumer<BroadcastRequested>
{
    public Task Consume(ConsumeContext<BroadcastRequested> context)
    {
        recorder.Record(context.Message);
        return Task.CompletedTask;
    }
}
