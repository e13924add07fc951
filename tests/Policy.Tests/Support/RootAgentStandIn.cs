using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Tests.Support;

/// <summary>
/// Answers a deadline watch's question as a root's agent does about a workload it never ran (one an external
/// system reported): <see cref="WorkloadStatus.Unknown"/>. Records each question.
/// </summary>
public sealed class RootAgentStandIn(MessageRecorder recorder) : IConsumer<QueryWorkload>
{
    public async Task Consume(ConsumeContext<QueryWorkload> context)
    {
        recorder.Record(context.Message);
        var query = context.Message;
        await context.Publish(new WorkloadStatusReported(query.WatchId, query.WorkloadId, query.VmmId, WorkloadStatus.Unknown, null));
    }
}
