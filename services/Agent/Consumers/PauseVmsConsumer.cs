using MassTransit;
using Treecast.Agent.Hosting;
using Treecast.Agent.Transfer;
using Treecast.Contracts;

namespace Treecast.Agent.Consumers;

/// <summary>Pauses every VM of the root and reports their images (sealed, or sealed later by <see cref="VmImagesSealed"/>).</summary>
public sealed class PauseVmsConsumer(AgentDirectory agents, ILogger<PauseVmsConsumer> logger) : IConsumer<PauseVms>
{
    public async Task Consume(ConsumeContext<PauseVms> context)
    {
        var command = context.Message;
        if (await agents.NodeForAsync(context, command.VmmId) is not { } node)
        {
            return;
        }

        try
        {
            var images = await node.Vmm.PauseAllAsync(context.CancellationToken);
            logger.LogInformation(
                "Paused {VmCount} VMs on {VmmId} for operation {OperationId}, {UnsealedCount} images still being saved",
                images.Count, node.VmmId, command.OperationId, images.Count(i => !i.IsSealed));
            await context.Publish(new VmsPaused(command.OperationId, node.VmmId, images));
            if (images.Any(i => !i.IsSealed))
            {
                // Announced before their streams ended: the sizes and digests follow when they do.
                _ = PublishWhenSealedAsync(node, command.OperationId, images);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await node.StepFailedAsync(context, command.OperationId, OperationStep.Pause, e);
        }
    }

    private async Task PublishWhenSealedAsync(AgentNode node, Guid operationId, IReadOnlyList<VmImage> images)
    {
        try
        {
            var sealedImages = await Task.WhenAll(images.Select(i => i.IsSealed ? Task.FromResult(i) : node.Vmm.SealedImageAsync(i.VmId, node.Stopping)));
            logger.LogInformation(
                "Sealed {VmCount} images on {VmmId} for operation {OperationId}: {TotalBytes} bytes",
                sealedImages.Length, node.VmmId, operationId, sealedImages.Sum(i => i.Bytes));
            await node.Events.PublishQuietlyAsync(new VmImagesSealed(operationId, node.VmmId, sealedImages), logger, node.VmmId, node.Stopping);
        }
        catch (OperationCanceledException) when (node.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The root's image is lost: nothing can be verified against it, so the whole operation fails.
            logger.LogError("Step {Step} of operation {OperationId} failed on {VmmId}: {Reason}", OperationStep.Pause, operationId, node.VmmId, e.Message);
            await node.Events.PublishQuietlyAsync(new OperationStepFailed(operationId, node.VmmId, OperationStep.Pause, e.Message), logger, node.VmmId, node.Stopping);
        }
    }
}
