using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Support;

/// <summary>
/// A client that is no agent of the fleet but knows what the bus told it (the token, the tree): it speaks TLS to an
/// agent, accepts whatever certificate the agent presents and presents the one it is given, or none.
/// </summary>
internal static class RogueClient
{
    public static GrpcChannel Channel(string endpoint, X509Certificate2? certificate) =>
        GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    ClientCertificates = certificate is null ? null : [certificate],
                    LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                },
            },
            DisposeHttpClient = true,
        });

    /// <summary>Opens a push with <paramref name="header"/> and reads the receiver's answers to the end (or its refusal).</summary>
    public static async Task PushHeaderAsync(GrpcChannel channel, PushHeader header)
    {
        using var call = new VmTransfer.VmTransferClient(channel).Push();
        await call.RequestStream.WriteAsync(new PushFrame { Header = header });
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
    }
}
