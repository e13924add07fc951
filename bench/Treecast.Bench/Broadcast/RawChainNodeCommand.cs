using System.CommandLine;
using System.Net;
using System.Net.Sockets;

namespace Treecast.Bench.Broadcast;

/// <summary>
/// <c>raw-chain-node</c> (hidden): one host of the raw-socket relay chain, run by the broadcast benchmark inside the host's
/// namespace. A receiver listens, takes one connection, and writes whatever it reads to the next host (if any) as it
/// reads it; the first host sends <c>--bytes</c> bytes to the next once it reads a line on standard input. Each prints
/// <c>ready</c> when it can start, then <c>sent-from {utc ticks}</c> (the first host, before its first byte) or
/// <c>holds {utc ticks}</c> (a receiver, once it holds all the bytes): one clock, the machine's, for every namespace.
/// </summary>
public static class RawChainNodeCommand
{
    private const int BufferBytes = 1024 * 1024;

    public static Command Build()
    {
        var listen = new Option<string?>("--listen") { Description = "address:port to take the predecessor's connection on (a receiver)." };
        var next = new Option<string?>("--next") { Description = "address:port of the next host in the chain." };
        var bytes = new Option<long>("--bytes") { Description = "Bytes the chain carries.", Required = true };
        var command = new Command("raw-chain-node", "One host of the broadcast benchmark's raw-socket relay chain.") { listen, next, bytes };
        command.Hidden = true;
        command.SetAction((result, cancellationToken) =>
            RunAsync(result.GetValue(listen), result.GetValue(next), result.GetValue(bytes), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? listen, string? next, long bytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferBytes];
        Random.Shared.NextBytes(buffer);
        if (listen is null)
        {
            using var first = await ConnectAsync(next ?? throw new ArgumentException("The first host needs --next."), cancellationToken);
            Console.WriteLine("ready");
            await Console.In.ReadLineAsync(cancellationToken);
            Console.WriteLine($"sent-from {DateTime.UtcNow.Ticks}");
            for (var left = bytes; left > 0;)
            {
                var count = (int)Math.Min(left, buffer.Length);
                await SendAllAsync(first, buffer.AsMemory(0, count), cancellationToken);
                left -= count;
            }

            first.Shutdown(SocketShutdown.Send);
            return 0;
        }

        using var listener = new TcpListener(IPEndPoint.Parse(listen));
        listener.Start();
        Console.WriteLine("ready");
        using var from = await listener.AcceptSocketAsync(cancellationToken);
        using var to = next is null ? null : await ConnectAsync(next, cancellationToken);
        long received = 0;
        while (received < bytes)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                Console.Error.WriteLine($"the predecessor closed the connection after {received} of {bytes} bytes");
                return 1;
            }

            received += read;
            if (to is not null)
            {
                await SendAllAsync(to, buffer.AsMemory(0, read), cancellationToken);
            }
        }

        Console.WriteLine($"holds {DateTime.UtcNow.Ticks}");
        to?.Shutdown(SocketShutdown.Send);
        return 0;
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None, cancellationToken)..];
        }
    }

    private static async Task<Socket> ConnectAsync(string endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPEndPoint.Parse(endpoint), cancellationToken);
        return socket;
    }
}
