using Treecast.TestSupport;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// <c>PendingTransferAnnounced</c> carries the token that lets a parent push VM images to an agent: only agents may read
/// it. The services' accounts cannot bind a queue to it, nor to the faults that would carry a copy of it.
/// </summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_a_service_account_binds_a_queue_to_the_announcements(AgentsOnTheirOwnAccounts fleet)
{
    public static TheoryData<string, string> Attempts() => AttemptMatrix.Of(
        [BrokerAccounts.Topology, BrokerAccounts.Scheduler, BrokerAccounts.Policy],
        ["Treecast.Contracts:PendingTransferAnnounced", "MassTransit:Fault--Treecast.Contracts:PendingTransferAnnounced--", "MassTransit:Fault"]);

    [SkippableTheory]
    [MemberData(nameof(Attempts))]
    public async Task Should_be_refused_by_the_broker(string account, string exchange)
    {
        fleet.Require();
        Assert.Null(await BrokerClient.DeclareExchangeAsync(fleet.Admin, exchange));

        var refused = await BrokerClient.BindAsync(fleet.Accounts.For(account), QueueName(), exchange);

        Assert.NotNull(refused);
        Assert.Equal(403, refused.ReplyCode);
        Assert.Contains($"ACCESS_REFUSED - access to exchange '{exchange}'", refused.ReplyText, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(BrokerAccounts.Topology, "Treecast.Contracts:VmmHeartbeat")]
    [InlineData(BrokerAccounts.Scheduler, "Treecast.Contracts:ScheduleTimer")]
    [InlineData(BrokerAccounts.Policy, "Treecast.Contracts:VmsReceived")]
    public async Task Should_still_bind_what_the_role_consumes(string account, string exchange)
    {
        fleet.Require();
        Assert.Null(await BrokerClient.DeclareExchangeAsync(fleet.Admin, exchange));

        Assert.Null(await BrokerClient.BindAsync(fleet.Accounts.For(account), QueueName(), exchange));
    }

    /// <summary>A name of the kind MassTransit gives a bus's temporary queue, which every account may declare.</summary>
    private static string QueueName() => $"attacker_testhost_bus_{Guid.NewGuid():N}";
}
