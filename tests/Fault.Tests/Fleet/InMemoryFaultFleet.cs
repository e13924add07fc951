namespace Treecast.Fault.Tests.Fleet;

/// <summary>The fleet with every service's state in memory: a restarted service starts empty.</summary>
public sealed class InMemoryFaultFleet : FaultFleet
{
    public override string Stores => "in-memory";

    protected override Task<string?> PrepareStoresAsync() => Task.FromResult<string?>(null);

    protected override IReadOnlyDictionary<string, string> StoreEnvironment(string service) => new Dictionary<string, string>();

    protected override Task DisposeStoresAsync() => Task.CompletedTask;
}
