namespace Treecast.Policy.Tests.Api;

/// <summary>The operations read-out over MassTransit's in-memory saga repository (the embedded default): always runs.</summary>
public sealed class InMemoryOperationEndpointsTests : OperationEndpointsContract
{
    protected override IReadOnlyDictionary<string, string?> StoreSettings() => new Dictionary<string, string?>();
}
