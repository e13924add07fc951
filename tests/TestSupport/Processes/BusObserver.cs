using System.Collections.Concurrent;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Treecast.Contracts;

namespace Treecast.TestSupport.Processes;

/// <summary>
/// The test's own view of a fleet's broker: a MassTransit bus on its own auto-delete queue that records what the
/// services publish, plus the two things a test does on the broker directly (publish plain JSON, wait for a queue).
/// </summary>
public sealed class BusObserver : IAsyncDisposable
{
    private readonly ConcurrentQueue<object> _seen = new();
    private readonly Uri _broker;
    private readonly Func<string> _logs;
    private ServiceProvider? _bus;

    private BusObserver(Uri broker, Func<string> logs)
    {
        _broker = broker;
        _logs = logs;
    }

    /// <summary>
    /// Starts observing on <paramref name="broker"/>; <paramref name="logs"/> is appended to every timeout. The
    /// announcements the root's agent sends to <paramref name="agents"/> (each its own slice of the tree) are seen too: the
    /// test's account binds those agents' exchanges, which no service account may (their commands are discarded unseen).
    /// </summary>
    public static async Task<BusObserver> StartAsync(Uri broker, string queuePrefix, Func<string> logs, IReadOnlyCollection<string>? agents = null)
    {
        var observer = new BusObserver(broker, logs);
        var services = new ServiceCollection();
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.UsingRabbitMq((_, cfg) =>
            {
                cfg.Host(broker);
                cfg.ReceiveEndpoint(queuePrefix + Guid.NewGuid().ToString("N")[..8], e =>
                {
                    // Durable, so it outlives a broker restart a test injects (an auto-delete queue would be gone until
                    // the observer reconnects, and whatever was published meanwhile lost to it); the broker deletes it
                    // a while after the observer is gone.
                    e.Durable = true;
                    e.AutoDelete = false;
                    e.QueueExpiration = TimeSpan.FromMinutes(5);
                    foreach (var vmmId in agents ?? [])
                    {
                        e.Bind(Addresses.AgentQueue(vmmId));
                    }

                    if (agents is { Count: > 0 })
                    {
                        e.DiscardSkippedMessages();
                    }

                    // Every fact a test may wait for or count; commands are sent to agents' exchanges and not seen here.
                    e.Handler<VmmRegistered>(observer.Keep);
                    e.Handler<VmmLost>(observer.Keep);
                    e.Handler<TreeResolved>(observer.Keep);
                    e.Handler<TreeRepaired>(observer.Keep);
                    e.Handler<BroadcastRequested>(observer.Keep);
                    e.Handler<VmsPaused>(observer.Keep);
                    e.Handler<PendingTransferAnnounced>(observer.Keep);
                    e.Handler<ReadyToReceive>(observer.Keep);
                    e.Handler<TransferProgressed>(observer.Keep);
                    e.Handler<VmsReceived>(observer.Keep);
                    e.Handler<OperationStepFailed>(observer.Keep);
                    e.Handler<ParentUnreachable>(observer.Keep);
                    e.Handler<ReceiveResumed>(observer.Keep);
                    e.Handler<TransferCancelled>(observer.Keep);
                    e.Handler<VmsResumed>(observer.Keep);
                    e.Handler<WorkloadStarted>(observer.Keep);
                    e.Handler<WorkloadCompleted>(observer.Keep);
                    e.Handler<WorkloadStatusReported>(observer.Keep);
                    e.Handler<BroadcastOperationFinished>(observer.Keep);
                });
            });
        });
        observer._bus = services.BuildServiceProvider();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await observer._bus.GetRequiredService<IBusControl>().StartAsync(timeout.Token);
        return observer;
    }

    /// <summary>The first message of type <typeparamref name="T"/> seen that matches, waiting up to <paramref name="within"/>.</summary>
    public async Task<T> WaitFor<T>(Func<T, bool> match, TimeSpan within)
        where T : class
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (_seen.OfType<T>().FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no matching {typeof(T).Name} within {within}\n{_logs()}");
            }

            await Task.Delay(50);
        }
    }

    public IReadOnlyList<T> Seen<T>()
        where T : class =>
        _seen.OfType<T>().ToList();

    /// <summary>Waits until every one of <paramref name="vmmIds"/> has registered with the topology service.</summary>
    public async Task WaitForRegistrationsAsync(IReadOnlyCollection<string> vmmIds, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!vmmIds.All(Registered().Contains))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the fleet did not come up: {Registered().Count(vmmIds.Contains)} of {vmmIds.Count} VMMs registered\n{_logs()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="queue"/> exists on the broker and a service consumes it (so it is bound too).</summary>
    public async Task WaitForConsumerAsync(string queue, TimeSpan within)
    {
        var factory = new ConnectionFactory { Uri = _broker };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            // A service declares its queue, binds it, then consumes: a message published to a fanout exchange before
            // the binding finds no queue and is dropped, so the queue existing is not enough; a consumer on it is.
            await using var channel = await connection.CreateChannelAsync();
            try
            {
                var queueState = await channel.QueueDeclarePassiveAsync(queue);
                if (queueState.ConsumerCount > 0)
                {
                    return;
                }
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) when (DateTime.UtcNow < deadline)
            {
                // Not declared yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no consumer on queue {queue} within {within}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>How many messages wait in <paramref name="queue"/> now.</summary>
    public async Task<uint> QueueDepthAsync(string queue)
    {
        var factory = new ConnectionFactory { Uri = _broker };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Publishes many plain JSON events over one connection, in order, as a busy monitoring system does.</summary>
    public async Task PublishExternalJsonAsync(IEnumerable<string> events)
    {
        var factory = new ConnectionFactory { Uri = _broker };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
        foreach (var json in events)
        {
            await channel.BasicPublishAsync(Addresses.ExternalEventsExchange, string.Empty, false, properties, Encoding.UTF8.GetBytes(json));
        }
    }

    /// <summary>Publishes plain JSON, as a monitoring system does, to the documented exchange.</summary>
    public async Task PublishExternalJsonAsync(string json)
    {
        var factory = new ConnectionFactory { Uri = _broker };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
        await channel.BasicPublishAsync(Addresses.ExternalEventsExchange, string.Empty, false, properties, Encoding.UTF8.GetBytes(json));
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.GetRequiredService<IBusControl>().StopAsync();
            await _bus.DisposeAsync();
        }
    }

    private HashSet<string> Registered() => Seen<VmmRegistered>().Select(r => r.VmmId).ToHashSet();

    private Task Keep<T>(ConsumeContext<T> context)
        where T : class
    {
        _seen.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}
