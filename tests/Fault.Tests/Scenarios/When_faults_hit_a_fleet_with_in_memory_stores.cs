using Treecast.Fault.Tests.Fleet;
using Xunit.Abstractions;

namespace Treecast.Fault.Tests.Scenarios;

/// <summary>The fault suite with every service's state in memory.</summary>
[Collection(FaultSuite.Name)]
[TestCaseOrderer(ScenarioOrderer.TypeName, ScenarioOrderer.AssemblyName)]
public sealed class When_faults_hit_a_fleet_with_in_memory_stores(InMemoryFaultFleet fleet, FaultFigures figures, ITestOutputHelper output)
    : FaultScenarios(fleet, figures, output), IClassFixture<InMemoryFaultFleet>;
