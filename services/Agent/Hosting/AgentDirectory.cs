using MassTransit;
using Treecast.Contracts;

namespace Treecast.Agent.Hosting;

/// <summary>
/// The agents hosted in this process (one in a service container, fifteen in the standalone host). Their consumers share
/// one bus, so a consumer finds its own agent by the queue the message arrived on.
/// </summary>
public sealed class AgentDirectory(IReadOnlyList<AgentHost> hosts, ILogger<AgentDirectory> logger)
{
    public IReadOnlyList<AgentHost> Hosts { get; } = hosts;

    public AgentHost this[string vmmId] =>
        Hosts.FirstOrDefault(h => h.VmmId == vmmId)
        ?? throw new KeyNotFoundException($"No agent for VMM {vmmId} in this process; hosted: {string.Join(", ", Hosts.Select(h => h.VmmId))}.");

    /// <summary>The node of the agent whose queue delivered the message, once it has started.</summary>
    public async Task<AgentNode> NodeForAsync(ConsumeContext context)
    {
        var queue = context.ReceiveContext.InputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        var host = Hosts.FirstOrDefault(h => Addresses.AgentQueue(h.VmmId) == queue)
            ?? throw new InvalidOperationException(
                $"A message arrived on {context.ReceiveContext.InputAddress}, which is no agent queue of this process (hosted: {string.Join(", ", Hosts.Select(h => Addresses.AgentQueue(h.VmmId)))}).");
        return await host.NodeAsync(context.CancellationToken);
    }

    /// <summary>
    /// The node of the agent whose queue delivered a command, or null (logged) when the command names another VMM: a
    /// command sent to the wrong queue is not carried out on the wrong host.
    /// </summary>
    public async Task<AgentNode?> NodeForAsync(ConsumeContext context, string addressedTo)
    {
        var node = await NodeForAsync(context);
        if (node.VmmId == addressedTo)
        {
            return node;
        }

        logger.LogWarning("Agent {VmmId} ignored a command addressed to {TargetVmmId}", node.VmmId, addressedTo);
        return null;
    }
}
