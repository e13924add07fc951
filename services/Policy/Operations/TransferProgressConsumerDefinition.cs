using MassTransit;

namespace Treecast.Policy.Operations;

/// <summary>
/// Progress reports are taken in batches: every receiver reports every half second (and every tenth of its bytes), so a
/// 15-host operation sends 30 reports a second, each one upsert, and on MongoDB those writes cost the services more CPU
/// than the saga's own. A batch is written once it holds <see cref="MessageLimit"/> reports or its first report is
/// <see cref="TimeLimit"/> old: progress shows up to that much later, against a transfer timer counted in minutes. The
/// reports are acknowledged once their batch is written, so none is lost.
/// </summary>
public sealed class TransferProgressConsumerDefinition : ConsumerDefinition<TransferProgressConsumer>
{
    public const int MessageLimit = 200;

    public static readonly TimeSpan TimeLimit = TimeSpan.FromMilliseconds(500);

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TransferProgressConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A batch can only fill with that many reports in flight on the endpoint.
        endpointConfigurator.ConcurrentMessageLimit = MessageLimit;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.PrefetchCount = MessageLimit;
        }

        consumerConfigurator.Options<BatchOptions>(options => options
            .SetMessageLimit(MessageLimit)
            .SetTimeLimit(TimeLimit)
            .SetConcurrencyLimit(1));
    }
}
