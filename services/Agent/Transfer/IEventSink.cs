namespace Treecast.Agent.Transfer;

/// <summary>Where the transfer engine publishes its events (the bus in an agent, a recorder in tests).</summary>
public interface IEventSink
{
    Task PublishAsync<T>(T message, CancellationToken cancellationToken)
        where T : class;
}
