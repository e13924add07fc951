using Treecast.TestSupport;
using Xunit.Abstractions;

namespace Treecast.Policy.Tests.Ingress;

/// <summary>The back-to-back workloads with the in-memory stores, the embedded default.</summary>
public sealed class When_workloads_start_back_to_back_on_rabbitmq(RabbitMqBroker broker, ITestOutputHelper output)
    : BackToBackWorkloadsOnRabbitMq(broker, output), IClassFixture<RabbitMqBroker>
{
    protected override IReadOnlyDictionary<string, string?> StoreSettings() => new Dictionary<string, string?>();
}
