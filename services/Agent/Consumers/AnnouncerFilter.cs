using MassTransit;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Hosting.Sender;

namespace Treecast.Agent.Consumers;

/// <summary>
/// Lets an announcement reach its consumer only when the broker vouches that the announced root's agent sent it: its AMQP
/// <c>user_id</c> must be the root's own account, <c>{prefix}treecast-agent-{RootVmmId}</c> (the prefix of this agent's
/// own account), or this agent's own account (a process hosting the whole fleet, or a fleet sharing one account, as the
/// standalone host and the tests do). Any other agent may write this agent's exchange (to deliver its own announcements),
/// so without this one could name itself a parent and hand out a token of its own. Refused ones go to <c>_error</c>
/// without retry, like a refused command (<see cref="CommandSenderFilter{TCommand}"/>).
/// </summary>
public sealed class AnnouncerFilter(string vmmId, string ownAccount) : IFilter<ConsumeContext<PendingTransferAnnounced>>
{
    /// <summary>What an agent's account is called, after the fleet's prefix (<c>infra/rabbitmq/setup-users.sh</c>).</summary>
    public const string AgentAccount = "treecast-agent-";

    private readonly string? _prefix = ownAccount.EndsWith(AgentAccount + vmmId, StringComparison.Ordinal)
        ? ownAccount[..^(AgentAccount.Length + vmmId.Length)]
        : null;

    public Task Send(ConsumeContext<PendingTransferAnnounced> context, IPipe<ConsumeContext<PendingTransferAnnounced>> next)
    {
        var userId = BrokerSender.UserId(context);
        var root = _prefix is null ? null : _prefix + AgentAccount + context.Message.RootVmmId;
        if (!string.Equals(userId, ownAccount, StringComparison.Ordinal) && !string.Equals(userId, root, StringComparison.Ordinal))
        {
            throw new InvalidMessageException(
                $"PendingTransferAnnounced {context.MessageId} of operation {context.Message.OperationId} to {vmmId} refused: its "
                + $"user_id is {(userId is null ? "missing" : $"'{userId}'")}, and only the root's agent "
                + $"({(root is null ? string.Empty : $"'{root}' or ")}this agent's account '{ownAccount}') may announce to this agent; "
                + "give every agent its own broker user (infra/rabbitmq/setup-users.sh --agent), or one user to the whole fleet.");
        }

        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("announcer");
}
