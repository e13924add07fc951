using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>Starts a workload in the VMs of this VMM; its completion is published by the agent's host when the VMM reports it.</summary>
public sealed class StartWorkloadConsumer(AgentDirectory agents, TimeProvider timeProvider) : IConsumer<StartWorkload>
{
    public async Task Consume(ConsumeContext<StartWorkload> context)
    {
        var command = context.Message;
        if (await agents.NodeForAsync(context, command.VmmId) is not { } node)
        {
            return;
        }

        await node.Vmm.StartWorkloadAsync(command.WorkloadId, command.Work, context.CancellationToken);
        await context.Publish(new WorkloadStarted(command.WorkloadId, node.VmmId, timeProvider.GetUtcNow()));
    }
}
