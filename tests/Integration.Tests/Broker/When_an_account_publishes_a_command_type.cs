using Treecast.TestSupport;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// A command's own exchange (<c>Treecast.Contracts:PauseVms</c>, …) is the policy service's alone: were an agent ever to
/// bind it, no other account could reach the agent through it. The broker refuses everyone else, agents included.
/// </summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_an_account_publishes_a_command_type(AgentsOnTheirOwnAccounts fleet)
{
    public static TheoryData<string, string> Attempts() => AttemptMatrix.Of(
        [BrokerAccounts.Topology, BrokerAccounts.Scheduler, BrokerAccounts.AgentUser(Target), BrokerAccounts.AgentUser(Neighbour)],
        AgentCommands.All);

    [SkippableTheory]
    [MemberData(nameof(Attempts))]
    public async Task Should_be_refused_by_the_broker(string account, string command)
    {
        fleet.Require();
        var exchange = $"Treecast.Contracts:{command}";
        Assert.Null(await BrokerClient.DeclareExchangeAsync(fleet.Admin, exchange));

        var refused = await BrokerClient.PublishAsync(
            fleet.Accounts.For(account), exchange, AgentCommands.Named(command, Target), Guid.NewGuid().ToString(), fleet.Accounts.UserPrefix + account);

        Assert.NotNull(refused);
        Assert.Equal(403, refused.ReplyCode);
        Assert.Contains($"ACCESS_REFUSED - access to exchange '{exchange}'", refused.ReplyText, StringComparison.Ordinal);
    }
}
