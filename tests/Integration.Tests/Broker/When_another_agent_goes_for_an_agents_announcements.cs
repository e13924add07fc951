using System.Text;
using Treecast.Contracts;
using Treecast.TestSupport;
using static Treecast.Integration.Tests.Broker.AgentsOnTheirOwnAccounts;

namespace Treecast.Integration.Tests.Broker;

/// <summary>
/// The root's agent sends each agent its announcement (the transfer token and that agent's slice of the tree) to the
/// agent's own exchange. Another agent's account may write there, but neither read it (bind a queue to the exchange, take
/// from the queue) nor announce an operation it is not the root of: the agent refuses that one, to its _error queue.
/// </summary>
[Collection(BrokerAttacks.Name)]
public sealed class When_another_agent_goes_for_an_agents_announcements(AgentsOnTheirOwnAccounts fleet)
{
    [SkippableFact]
    public async Task Should_be_refused_a_binding_to_the_agents_exchange()
    {
        fleet.Require();

        var refused = await BrokerClient.BindAsync(fleet.Accounts.AgentUri(Neighbour), $"spy_testhost_bus_{Guid.NewGuid():N}", Addresses.AgentQueue(Target));

        Assert.NotNull(refused);
        Assert.Equal(403, refused.ReplyCode);
        Assert.Contains($"ACCESS_REFUSED - access to exchange '{Addresses.AgentQueue(Target)}'", refused.ReplyText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Should_be_refused_the_agents_queue()
    {
        fleet.Require();

        var refused = await BrokerClient.GetAsync(fleet.Accounts.AgentUri(Neighbour), Addresses.AgentQueue(Target));

        Assert.NotNull(refused);
        Assert.Equal(403, refused.ReplyCode);
        Assert.Contains($"ACCESS_REFUSED - access to queue '{Addresses.AgentQueue(Target)}'", refused.ReplyText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Should_not_have_the_agent_follow_an_announcement_of_another_root()
    {
        fleet.Require();
        var neighbour = fleet.Accounts.UserPrefix + BrokerAccounts.AgentUser(Neighbour);
        var operation = Guid.NewGuid();
        const string root = "host-03";
        var tree = new VmmTree(1, root, 2, [
            new TreeNode(Target, Neighbour, "site-1/pod-1/rack-1", "https://127.0.0.1:1"),
        ]);
        var forged = new PendingTransferAnnounced(operation, root, tree, [new VmImage("vm-0", 1024, new string('0', 64))], "forged", 1024 * 1024, BroadcastMode.Broadcast);
        var messageId = Guid.NewGuid().ToString();

        Assert.Null(await BrokerClient.PublishAsync(fleet.Accounts.AgentUri(Neighbour), Addresses.AgentQueue(Target), forged, messageId, neighbour));
        var moved = await fleet.MovedToErrorAsync(Target, messageId, TimeSpan.FromMinutes(1));

        var reason = Encoding.UTF8.GetString((byte[])moved.BasicProperties.Headers!["MT-Fault-Message"]!);
        Assert.Contains($"user_id is '{neighbour}'", reason, StringComparison.Ordinal);
        Assert.Contains($"'{fleet.Accounts.UserPrefix}{BrokerAccounts.AgentUser(root)}'", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(fleet.Observer.Seen<object>(), seen => seen.ToString()!.Contains(operation.ToString(), StringComparison.Ordinal));
        Assert.Single(await fleet.AgentLinesWithAsync(Target, messageId));
    }
}
