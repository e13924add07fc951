using Xunit.Abstractions;
using Xunit.Sdk;

namespace Treecast.Fault.Tests.Scenarios;

/// <summary>
/// Runs a fleet's scenarios in their <see cref="ScenarioAttribute"/> order: each leaves the fleet whole for the next,
/// and the deadline scenario, which duplicates the root's VMs onto every VMM, comes last.
/// </summary>
public sealed class ScenarioOrderer : ITestCaseOrderer
{
    public const string TypeName = "Treecast.Fault.Tests.Scenarios.ScenarioOrderer";
    public const string AssemblyName = "Treecast.Fault.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        testCases.OrderBy(c => c.TestMethod.Method
            .GetCustomAttributes(typeof(ScenarioAttribute).AssemblyQualifiedName)
            .Select(a => (int)a.GetConstructorArguments().First())
            .FirstOrDefault(int.MaxValue));
}
