namespace Treecast.Fault.Tests.Fleet;

/// <summary>Both fleets run one after the other (the machine has two cores) and count into one set of figures.</summary>
[CollectionDefinition(Name)]
public sealed class FaultSuite : ICollectionFixture<FaultFigures>
{
    public const string Name = "faults";
}
