using RabbitMQ.Client.Events;
using Treecast.Contracts;
using Treecast.TestSupport;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// Only the policy service's and the agents' accounts may write to an agent's exchange (another agent delivers its
/// announcements there, and the agent refuses its commands: <see cref="When_a_command_reaches_an_agent_through_another_account"/>):
/// the other services' accounts are refused by the broker itself, whatever they publish, by the agent's exchange or, as
/// another agent's are too, straight to its queue.
/// </summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_another_account_publishes_a_command_to_an_agent(AgentsOnTheirOwnAccounts fleet)
{
    public static TheoryData<string, string> Attempts() => AttemptMatrix.Of(
        [BrokerAccounts.Topology, BrokerAccounts.Scheduler, BrokerAccounts.AgentUser(Neighbour)],
        [nameof(ResumeVms), nameof(PauseVms), nameof(StartWorkload)]);

    public static TheoryData<string, string> ServiceAttempts() => AttemptMatrix.Of(
        [BrokerAccounts.Topology, BrokerAccounts.Scheduler],
        [nameof(ResumeVms), nameof(PauseVms), nameof(StartWorkload)]);

    [SkippableTheory]
    [MemberData(nameof(ServiceAttempts))]
    public async Task Should_be_refused_by_the_broker_at_the_agents_exchange(string account, string command)
    {
        fleet.Require();

        var refused = await PublishCommandAsync(account, command, Addresses.AgentQueue(Target), routingKey: string.Empty);

        Assert.NotNull(refused);
        Assert.Equal(403, refused.ReplyCode);
        Assert.Contains("ACCESS_REFUSED", refused.ReplyText, StringComparison.Ordinal);
        Assert.Contains(Addresses.AgentQueue(Target), refused.ReplyText, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Attempts))]
    public async Task Should_be_refused_by_the_broker_at_the_agents_queue(string account, string command)
    {
        fleet.Require();

        // The default exchange routes to any queue by name; writing to it is a permission of its own (amq.default).
        var refused = await PublishCommandAsync(account, command, exchange: string.Empty, routingKey: Addresses.AgentQueue(Target));

        Assert.NotNull(refused);
        Assert.Equal(403, refused.ReplyCode);
        Assert.Contains("ACCESS_REFUSED", refused.ReplyText, StringComparison.Ordinal);
    }

    private Task<ShutdownEventArgs?> PublishCommandAsync(string account, string command, string exchange, string routingKey) =>
        BrokerClient.PublishAsync(
            fleet.Accounts.For(account),
            exchange,
            AgentCommands.Named(command, Target),
            Guid.NewGuid().ToString(),
            fleet.Accounts.UserPrefix + account,
            routingKey);
}
