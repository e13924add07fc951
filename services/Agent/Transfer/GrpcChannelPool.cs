using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Treecast.Security;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Transfer;

/// <summary>
/// One agent's gRPC channels to the children it pushes to: one channel (and so one pool of HTTP/2 connections) per child
/// endpoint and VMM, shared by operations. With credentials, every connection is mutual TLS: it presents this agent's
/// certificate and goes on only when the server's certificate chains to the fleet's CAs and names the VMM the push is
/// for (not the host name: advertised endpoints may be IP addresses). Without, it speaks cleartext HTTP/2.
/// </summary>
public sealed class GrpcChannelPool(AgentCredentials? credentials, ILogger<GrpcChannelPool> logger) : IDisposable
{
    /// <summary>How long a call that only checks or warms an endpoint may take.</summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Endpoint, string VmmId), Lazy<GrpcChannel>> _channels = new();

    /// <summary>The channel to <paramref name="vmmId"/> at <paramref name="endpoint"/>; refuses an endpoint of the other scheme.</summary>
    public GrpcChannel For(string endpoint, string vmmId) =>
        _channels.GetOrAdd((endpoint.ToLowerInvariant(), vmmId), key => new Lazy<GrpcChannel>(() => Create(endpoint, key.VmmId))).Value;

    /// <summary>
    /// Opens the connection to <paramref name="vmmId"/> now (TCP, the mutual TLS handshake, HTTP/2), so the first push
    /// finds it ready; true once the child answered. A child that cannot be reached yet is no error here: the push
    /// retries and reports it.
    /// </summary>
    public async Task<bool> ConnectAheadAsync(string endpoint, string vmmId, CancellationToken cancellationToken)
    {
        var failure = await TryConnectAsync(endpoint, vmmId, cancellationToken);
        if (failure is not null)
        {
            logger.LogDebug("Could not connect ahead to {ChildVmmId} at {Endpoint}: {Reason}", vmmId, endpoint, failure);
        }

        return failure is null;
    }

    /// <summary>Calls <c>VmTransfer.Connect</c> on <paramref name="vmmId"/> at <paramref name="endpoint"/>; null once it answered, else why not.</summary>
    public async Task<string?> TryConnectAsync(string endpoint, string vmmId, CancellationToken cancellationToken)
    {
        try
        {
            var client = new VmTransfer.VmTransferClient(For(endpoint, vmmId));
            await client.ConnectAsync(new ConnectRequest(), deadline: DateTime.UtcNow + CallDeadline, cancellationToken: cancellationToken);
            return null;
        }
        catch (Exception e) when (Unanswered(e))
        {
            return e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;
        }
    }

    /// <summary>
    /// Opens a push on <paramref name="vmmId"/> at <paramref name="endpoint"/> for no operation
    /// (<see cref="VmTransferService.WarmUpOperationId"/>) and takes its refusal: the duplex-streaming code of both ends,
    /// which a unary <c>Connect</c> does not reach, is then compiled before the first operation's first hop needs it.
    /// True when the refusal came back.
    /// </summary>
    public async Task<bool> TryWarmPushAsync(string endpoint, string vmmId, CancellationToken cancellationToken)
    {
        try
        {
            using var call = new VmTransfer.VmTransferClient(For(endpoint, vmmId)).Push(deadline: DateTime.UtcNow + CallDeadline, cancellationToken: cancellationToken);
            await call.RequestStream.WriteAsync(
                new PushFrame
                {
                    Header = new PushHeader { OperationId = VmTransferService.WarmUpOperationId, Token = string.Empty, SenderVmmId = vmmId, ReceiverVmmId = vmmId },
                },
                cancellationToken);
            await call.ResponseStream.MoveNext(cancellationToken);
            return false; // No operation of that id is ever announced: an answer other than a refusal is not what was asked.
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
        {
            return true;
        }
        catch (Exception e) when (Unanswered(e))
        {
            return false;
        }
    }

    /// <summary>The ways a call to an endpoint fails without an answer: refused, unreachable, a malformed endpoint.</summary>
    private static bool Unanswered(Exception e) => e is RpcException or InvalidOperationException or UriFormatException or HttpRequestException;

    public void Dispose()
    {
        foreach (var channel in _channels.Values.Where(c => c.IsValueCreated))
        {
            channel.Value.Dispose();
        }

        _channels.Clear();
    }

    private GrpcChannel Create(string endpoint, string vmmId)
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
        var secure = new Uri(endpoint).Scheme == Uri.UriSchemeHttps;
        if (credentials is null && secure)
        {
            throw new InvalidOperationException(
                $"{vmmId} serves TLS at {endpoint}, and this agent has no certificate (Agent:Tls:AllowPlaintext is true): give it its certificates (Agent:Tls:Directory).");
        }

        if (credentials is not null)
        {
            if (!secure)
            {
                throw new InvalidOperationException(
                    $"{vmmId} advertises {endpoint}, a cleartext endpoint, and this agent pushes over mutual TLS only: give {vmmId} its certificates (Agent:Tls:Directory) instead of Agent:Tls:AllowPlaintext.");
            }

            var own = credentials.Certificate;
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [own],
                // Present our certificate whatever issuers the server lists.
                LocalCertificateSelectionCallback = (_, _, _, _, _) => own,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IsExpectedChild(certificate, endpoint, vmmId),
            };
        }

        return GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = TransferLimits.MaxMessageBytes,
            MaxReceiveMessageSize = TransferLimits.MaxMessageBytes,
        });
    }

    private bool IsExpectedChild(X509Certificate? presented, string endpoint, string vmmId)
    {
        using var certificate = presented is null ? null : X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var check = credentials!.Trust.Check(certificate, PeerRole.Server);
        if (check.IsTrusted && check.VmmId == vmmId)
        {
            return true;
        }

        logger.LogWarning(
            "{VmmId} will not push to {ChildVmmId} at {Endpoint}: {Problem}",
            credentials.VmmId, vmmId, endpoint, check.Problem ?? $"the server's certificate names {check.VmmId}, not {vmmId}");
        return false;
    }
}
