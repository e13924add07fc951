using MassTransit;
using Treecast.Agent.Transfer;

namespace Treecast.Agent.Hosting;

/// <summary>Publishes the transfer engine's events on the process's bus.</summary>
public sealed class BusEventSink(IPublishEndpoint publishEndpoint) : IEventSink
{
    public Task PublishAsync<T>(T message, CancellationToken cancellationToken)
        where T : class => publishEndpoint.Publish(message, cancellationToken);
}
