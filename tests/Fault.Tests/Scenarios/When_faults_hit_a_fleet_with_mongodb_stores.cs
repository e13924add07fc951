using Treecast.Fault.Tests.Fleet;
using Xunit.Abstractions;

namespace Treecast.Fault.Tests.Scenarios;

/// <summary>The fault suite with topology, policy and scheduler state in MongoDB, as docker compose deploys it.</summary>
[Collection(FaultSuite.Name)]
[TestCaseOrderer(ScenarioOrderer.TypeName, ScenarioOrderer.AssemblyName)]
public sealed class When_faults_hit_a_fleet_with_mongodb_stores(MongoFaultFleet fleet, FaultFigures figures, ITestOutputHelper output)
    : FaultScenarios(fleet, figures, output), IClassFixture<MongoFaultFleet>;
