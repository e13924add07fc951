using System.Net;
using System.Net.Sockets;

namespace Treecast.Fault.Tests.Fleet;

/// <summary>
/// A TCP relay in front of one agent's gRPC port that can corrupt the bytes a parent sends it: once armed, it flips
/// one byte a given distance into the stream, as a bad NIC or a bit flip on the wire would. The agent advertises the
/// proxy's port, so its parent connects through it.
/// </summary>
public sealed class ChaosProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _targetPort;
    private readonly Task _accepting;
    private long _corruptAfter = -1;
    private long _forwarded;

    public ChaosProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Bytes flipped so far.</summary>
    public int Corrupted => _corrupted;

    private int _corrupted;

    /// <summary>Flips the byte <paramref name="bytes"/> further into the parent-to-child stream, once.</summary>
    public void CorruptAfter(long bytes) => Interlocked.Exchange(ref _corruptAfter, Interlocked.Read(ref _forwarded) + bytes);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await Task.WhenAny(_accepting);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var target = new TcpClient())
        {
            try
            {
                await target.ConnectAsync(IPAddress.Loopback, _targetPort, _stopping.Token);
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                var toChild = PumpAsync(client.GetStream(), target.GetStream(), corrupt: true, connection.Token);
                var toParent = PumpAsync(target.GetStream(), client.GetStream(), corrupt: false, connection.Token);
                await Task.WhenAny(toChild, toParent);
                await connection.CancelAsync();
                await Task.WhenAll(Quietly(toChild), Quietly(toParent));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The agent behind went away or the test stopped: the parent sees a broken stream, as it would.
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool corrupt, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return;
            }

            if (corrupt)
            {
                var start = Interlocked.Add(ref _forwarded, read) - read;
                var at = Interlocked.Read(ref _corruptAfter);
                if (at >= start && at < start + read && Interlocked.CompareExchange(ref _corruptAfter, -1, at) == at)
                {
                    buffer[at - start] ^= 0x5A;
                    Interlocked.Increment(ref _corrupted);
                }
            }

            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private static async Task Quietly(Task pump)
    {
        try
        {
            await pump;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
