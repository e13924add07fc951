using System.Net;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Security;

namespace Treecast.Agent.Transfer;

/// <summary>
/// One agent's own gRPC server for <see cref="VmTransferService"/>: a small Kestrel app separate from the process's host,
/// so several agents can live in one process, each on its own port. With credentials it speaks HTTP/2 over mutual TLS
/// only: it presents the agent's certificate and takes a connection only from a client whose certificate chains to the
/// fleet's CAs (not the OS store); without, HTTP/2 cleartext.
/// </summary>
public sealed class TransferServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TransferBufferPool.Factory _buffers;

    private TransferServer(WebApplication app, TransferBufferPool.Factory buffers, int port, bool tls)
    {
        _app = app;
        _buffers = buffers;
        Port = port;
        IsTls = tls;
    }

    /// <summary>The port actually bound (the one asked for, or a free one when 0 was asked).</summary>
    public int Port { get; }

    /// <summary>True when the server speaks mutual TLS (peers reach it at <c>https://</c>).</summary>
    public bool IsTls { get; }

    /// <summary>Blocks Kestrel took from this server's <see cref="TransferBufferPool"/>s to read and write its connections.</summary>
    public long BufferBlocksRented => _buffers.BlocksRented;

    /// <param name="bindAddress">An IP address, <c>localhost</c>, or <c>0.0.0.0</c>/<c>*</c> for every interface.</param>
    public static async Task<TransferServer> StartAsync(
        TransferEngine engine,
        string bindAddress,
        int port,
        AgentCredentials? credentials,
        ILoggerFactory loggerFactory,
        Action<GrpcServiceOptions>? configureGrpc = null,
        CancellationToken cancellationToken = default)
    {
        // The empty builder reads no appsettings or environment: the process's Kestrel settings are not this server's.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(TransferServer).Assembly.GetName().Name });
        builder.Services.AddSingleton<ILoggerFactory>(new WithoutLifetimeLines(loggerFactory));
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(new PushAuthentication(ClientCertificate: credentials is not null));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc(options =>
        {
            options.MaxReceiveMessageSize = TransferLimits.MaxMessageBytes;
            options.MaxSendMessageSize = TransferLimits.MaxMessageBytes;
            configureGrpc?.Invoke(options);
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            // A stream legitimately idles while a relay waits for its parent's next chunk.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.InitialConnectionWindowSize = TransferLimits.ConnectionWindowBytes;
            kestrel.Limits.Http2.InitialStreamWindowSize = TransferLimits.StreamWindowBytes;
            kestrel.Limits.Http2.MaxFrameSize = 1024 * 1024;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            var logger = loggerFactory.CreateLogger<TransferServer>();
            Listen(kestrel, bindAddress, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (credentials is not null)
                {
                    listen.UseHttps(MutualTls(credentials, logger));
                }
            });
        });

        // After Kestrel's own registration, which it replaces.
        var buffers = new TransferBufferPool.Factory();
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(buffers);
        var app = builder.Build();
        app.MapGrpcService<VmTransferService>();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            // A port already taken: this server never ran; the caller may try another port.
            await app.DisposeAsync();
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new TransferServer(app, buffers, new Uri(addresses.First()).Port, credentials is not null);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    private static HttpsConnectionAdapterOptions MutualTls(AgentCredentials credentials, ILogger logger) => new()
    {
        ServerCertificate = credentials.Certificate,
        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
        CheckCertificateRevocation = false,
        // The chain the platform built against the OS store is ignored: only the fleet's CAs count.
        ClientCertificateValidation = (certificate, _, _) =>
        {
            var check = credentials.Trust.Check(certificate, PeerRole.Client);
            if (!check.IsTrusted)
            {
                logger.LogWarning("{VmmId} refused a TLS connection: {Problem}", credentials.VmmId, check.Problem);
            }

            return check.IsTrusted;
        },
    };

    /// <summary>
    /// The process's loggers without the embedded host's <c>Microsoft.Hosting.Lifetime</c> lines. The process's own
    /// host prints "Now listening on:" for its HTTP address (health, metrics); a second such line for this server
    /// made that address ambiguous to an operator, and to a script that took the first line (it sometimes got this
    /// server's mutual-TLS port and failed on its certificate). The agent's "ready at" line names this server's address.
    /// </summary>
    private sealed class WithoutLifetimeLines(ILoggerFactory loggers) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == "Microsoft.Hosting.Lifetime" ? NullLogger.Instance : loggers.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => loggers.AddProvider(provider);

        // The process owns the loggers it passed in.
        public void Dispose()
        {
        }
    }

    private static void Listen(KestrelServerOptions kestrel, string bindAddress, int port, Action<ListenOptions> configure)
    {
        if (bindAddress is "0.0.0.0" or "*" or "+")
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else if (string.Equals(bindAddress, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(port, configure);
        }
        else if (IPAddress.TryParse(bindAddress, out var address))
        {
            kestrel.Listen(address, port, configure);
        }
        else
        {
            throw new ArgumentException(
                $"Agent bind address '{bindAddress}' is not an IP address; use 127.0.0.1, 0.0.0.0 or localhost.",
                nameof(bindAddress));
        }
    }
}
