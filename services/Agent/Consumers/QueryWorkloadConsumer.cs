using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>Answers how a workload stands on this VMM, from the VMM itself, whatever the bus delivered or lost.</summary>
public sealed class QueryWorkloadConsumer(AgentDirectory agents, ILogger<QueryWorkloadConsumer> logger) : IConsumer<QueryWorkload>
{
    public async Task Consume(ConsumeContext<QueryWorkload> context)
    {
        var query = context.Message;
        if (await agents.NodeForAsync(context, query.VmmId) is not { } node)
        {
            return;
        }

        var report = node.Vmm.ReportWorkload(query.WorkloadId);
        logger.LogInformation(
            "Workload {WorkloadId} on {VmmId} is {WorkloadStatus} (completed at {CompletedAt}), asked by watch {WatchId}",
            query.WorkloadId, node.VmmId, report.Status, report.CompletedAt, query.WatchId);
        await context.Publish(new WorkloadStatusReported(query.WatchId, query.WorkloadId, node.VmmId, report.Status, report.CompletedAt));
    }
}
