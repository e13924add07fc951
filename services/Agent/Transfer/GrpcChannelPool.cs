using System.Collections.Concurrent;
using Grpc.Net.Client;

namespace Treecast.Agent.Transfer;

/// <summary>One gRPC channel (and so one pool of HTTP/2 connections) per child endpoint, shared by operations.</summary>
public sealed class GrpcChannelPool : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<GrpcChannel>> _channels = new(StringComparer.OrdinalIgnoreCase);

    public GrpcChannel For(string endpoint) =>
        _channels.GetOrAdd(endpoint, e => new Lazy<GrpcChannel>(() => Create(e))).Value;

    public void Dispose()
    {
        foreach (var channel in _channels.Values.Where(c => c.IsValueCreated))
        {
            channel.Value.Dispose();
        }

        _channels.Clear();
    }

    private static GrpcChannel Create(string endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            // The defaults (64 KiB windows) cap a stream at a few hundred MiB/s even on loopback.
            InitialHttp2StreamWindowSize = TransferLimits.StreamWindowBytes,
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        return GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = TransferLimits.MaxMessageBytes,
            MaxReceiveMessageSize = TransferLimits.MaxMessageBytes,
        });
    }
}
