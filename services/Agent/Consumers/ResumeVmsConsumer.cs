using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>Resumes the root's VMs, or a receiver's verified copies (with identities of their own).</summary>
public sealed class ResumeVmsConsumer(AgentDirectory agents, ILogger<ResumeVmsConsumer> logger) : IConsumer<ResumeVms>
{
    public async Task Consume(ConsumeContext<ResumeVms> context)
    {
        var command = context.Message;
        if (await agents.NodeForAsync(context, command.VmmId) is not { } node)
        {
            return;
        }

        try
        {
            IEnumerable<string> vmIds;
            if (command.IsRoot)
            {
                vmIds = node.Transfers.TryGetAnnounced(command.OperationId, out var announced)
                    ? announced.Vms.Select(v => v.VmId)
                    : node.Vmm.Vms.Select(v => v.VmId);
            }
            else if (node.Transfers.TryGetReceiver(command.OperationId, out var receiver) && receiver.Received.IsCompletedSuccessfully)
            {
                vmIds = receiver.Announcement.Vms.Select(v => v.VmId);
            }
            else
            {
                throw new InvalidOperationException($"{node.VmmId} holds no verified copies of operation {command.OperationId} to resume.");
            }

            var copies = new List<VmCopy>();
            foreach (var vmId in vmIds)
            {
                // The copies join the network next to the originals, so they need addresses of their own.
                copies.Add(await node.Vmm.ResumeAsync(vmId, newIdentity: !command.IsRoot, context.CancellationToken));
            }

            logger.LogInformation("Resumed {VmCount} VMs on {VmmId} for operation {OperationId}", copies.Count, node.VmmId, command.OperationId);
            await context.Publish(new VmsResumed(command.OperationId, node.VmmId, copies));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, command.OperationId, OperationStep.Resume, e);
        }
    }
}
