using System.Text;
using Treecast.Contracts;
using Treecast.Hosting.Sender;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// A message an agent has no consumer for goes to its _skipped queue, also when another account stamped it with its own
/// user_id (which the agent's account could not publish again under that id).
/// </summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_a_message_no_agent_consumer_takes_arrives_from_another_account(AgentsOnTheirOwnAccounts fleet)
{
    [SkippableFact]
    public async Task Should_move_it_to_the_skipped_queue_without_the_foreign_user_id()
    {
        fleet.Require();
        var admin = Uri.UnescapeDataString(fleet.Admin.UserInfo.Split(':')[0]);
        var messageId = Guid.NewGuid().ToString();

        Assert.Null(await BrokerClient.PublishAsync(
            fleet.Admin, Addresses.AgentQueue(Target), new VmmLost(Target, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), messageId, admin));
        var moved = await fleet.MovedAsync(Addresses.AgentQueue(Target) + "_skipped", messageId, TimeSpan.FromMinutes(1));

        Assert.False(moved.BasicProperties.IsUserIdPresent());
        var original = moved.BasicProperties.Headers?[MoveWithoutForeignUserIdFilter.OriginalUserIdHeader];
        Assert.Equal(admin, original is byte[] bytes ? Encoding.UTF8.GetString(bytes) : original as string);
    }
}
