using MassTransit;
using Treecast.Hosting;
using Treecast.Hosting.Sender;

namespace Treecast.Agent.Consumers;

/// <summary>
/// Lets a command reach its consumer only when the broker vouches that the commanding account sent it: the message's AMQP
/// <c>user_id</c>, which RabbitMQ checks against the publisher's login, must name <see cref="AgentOptions.CommandSender"/>.
/// Anything else is refused without retry and moved to the agent's <c>_error</c> queue, never acted on. Broker permissions
/// keep the other services' accounts off the agent's exchange; this covers the agents' accounts, which can reach it (the
/// agent's own, and every other agent's, which delivers announcements there).
/// </summary>
public sealed class CommandSenderFilter<TCommand>(AgentOptions agent) : IFilter<ConsumeContext<TCommand>>
    where TCommand : class
{
    public Task Send(ConsumeContext<TCommand> context, IPipe<ConsumeContext<TCommand>> next)
    {
        var userId = BrokerSender.UserId(context);
        if (!string.Equals(userId, agent.CommandSender, StringComparison.Ordinal))
        {
            throw new InvalidMessageException(
                $"{typeof(TCommand).Name} {context.MessageId} to {agent.VmmId} refused, not carried out: its user_id is "
                + $"{(userId is null ? "missing" : $"'{userId}'")}, and only '{agent.CommandSender}' (Agent:CommandSender) may "
                + "command this agent; send commands through the policy service, or set Agent:CommandSender to the broker user "
                + "that does.");
        }

        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("commandSender");
}
