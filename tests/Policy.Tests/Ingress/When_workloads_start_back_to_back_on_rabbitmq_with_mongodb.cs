using Treecast.TestSupport;
using Xunit.Abstractions;

namespace Treecast.Policy.Tests.Ingress;

/// <summary>
/// The back-to-back workloads with MongoDB as every store (watches, operations, the workload ledger, the
/// scheduler's timers), as docker compose deploys the services. Skipped, with the reason, without a MongoDB server.
/// </summary>
public sealed class When_workloads_start_back_to_back_on_rabbitmq_with_mongodb(
    RabbitMqBroker broker,
    MongoDbServer mongo,
    ITestOutputHelper output)
    : BackToBackWorkloadsOnRabbitMq(broker, output), IClassFixture<RabbitMqBroker>, IClassFixture<MongoDbServer>
{
    protected override IReadOnlyDictionary<string, string?> StoreSettings()
    {
        mongo.Require();
        return new Dictionary<string, string?>
        {
            ["Mongo:ConnectionString"] = mongo.ConnectionString,
            ["Mongo:Database"] = mongo.DatabaseName,
        };
    }
}
