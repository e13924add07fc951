using MassTransit;
using MassTransit.Middleware;

namespace Treecast.Hosting.Sender;

public static class BrokerSenderConfigurationExtensions
{
    /// <summary>
    /// Makes the broker vouch for this bus's messages: every message sent or published carries AMQP <c>user_id</c> =
    /// <paramref name="user"/>, the login of the bus (<see cref="UserIdStampFilter"/>), and every receive endpoint moves a
    /// message stamped by another account to <c>_error</c> or <c>_skipped</c> without that stamp
    /// (<see cref="MoveWithoutForeignUserIdFilter"/>), since RabbitMQ would refuse the move otherwise.
    /// </summary>
    public static void UseBrokerSenderIdentity(this IRabbitMqBusFactoryConfigurator configurator, string user)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        var stamp = new UserIdStampFilter(user);
        configurator.ConfigureSend(send => send.UseFilter(stamp));
        configurator.ConfigurePublish(publish => publish.UseFilter(stamp));
        configurator.ConnectEndpointConfigurationObserver(new MovesWithoutForeignUserId(new MoveWithoutForeignUserIdFilter(user)));
    }

    /// <summary>Gives every receive endpoint MassTransit's error and dead-letter pipes with the filter in front.</summary>
    private sealed class MovesWithoutForeignUserId(MoveWithoutForeignUserIdFilter filter) : IEndpointConfigurationObserver
    {
        public void EndpointConfigured<T>(T configurator)
            where T : IReceiveEndpointConfigurator
        {
            // A pipe given filters replaces MassTransit's default one, so its filters are named again after ours.
            configurator.ConfigureError(error =>
            {
                error.UseFilter<ExceptionReceiveContext>(filter);
                error.UseFilter(new GenerateFaultFilter());
                error.UseFilter(new ErrorTransportFilter());
            });
            configurator.ConfigureDeadLetter(deadLetter =>
            {
                deadLetter.UseFilter<ReceiveContext>(filter);
                deadLetter.UseFilter(new DeadLetterTransportFilter());
            });
        }
    }
}
