namespace Treecast.Fault.Tests.Scenarios;

/// <summary>A scenario's place in the suite's run; see <see cref="ScenarioOrderer"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ScenarioAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}
