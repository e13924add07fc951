using RabbitMQ.Client.Events;
using Treecast.Contracts;
using Treecast.TestSupport;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>The user_id agents trust cannot be forged: the broker refuses a publish that names another user, administrators included.</summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_an_account_forges_the_user_id_of_the_policy_service(AgentsOnTheirOwnAccounts fleet)
{
    [SkippableFact]
    public async Task Should_be_refused_by_the_broker_for_the_agents_own_account()
    {
        fleet.Require();

        var refused = await BrokerClient.PublishAsync(
            fleet.Accounts.AgentUri(Target), Addresses.AgentQueue(Target), new PauseVms(Guid.NewGuid(), Target), Guid.NewGuid().ToString(), fleet.Accounts.CommandSender);

        AssertForgeryRefused(refused);
    }

    [SkippableFact]
    public async Task Should_be_refused_by_the_broker_for_an_administrator()
    {
        fleet.Require();

        var refused = await BrokerClient.PublishAsync(
            fleet.Admin, Addresses.AgentQueue(Target), new PauseVms(Guid.NewGuid(), Target), Guid.NewGuid().ToString(), fleet.Accounts.CommandSender);

        AssertForgeryRefused(refused);
    }

    private void AssertForgeryRefused(ShutdownEventArgs? refused)
    {
        Assert.NotNull(refused);
        Assert.Equal(406, refused.ReplyCode);
        Assert.Contains($"PRECONDITION_FAILED - user_id property set to '{fleet.Accounts.CommandSender}'", refused.ReplyText, StringComparison.Ordinal);
    }
}
