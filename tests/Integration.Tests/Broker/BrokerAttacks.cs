namespace Treecast.Integration.Tests.Broker;

/// <summary>The scenarios that attack agents through one broker share one fleet, one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerAttacks : ICollectionFixture<AgentsOnTheirOwnAccounts>
{
    public const string Name = "broker attacks";
}
