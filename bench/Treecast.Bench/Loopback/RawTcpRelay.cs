using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using Treecast.Agent.Tests.Support;

namespace Treecast.Bench.Loopback;

/// <summary>
/// The floor the relay is compared with: root → relay → leaves over plain TCP sockets on loopback, the relay and the
/// leaves writing every chunk to a file as the agents do (the relay sends each chunk to every leaf in turn), optionally with an XxHash3 of every chunk checked at each hop.
/// A frame is a 4-byte length, an 8-byte hash (0 without hashing), then the bytes; a zero length ends the stream.
/// </summary>
public static class RawTcpRelay
{
    private const int HeaderBytes = 12;

    public static async Task<RelayTiming> TransferAsync(
        string imagePath, string workDirectory, int chunkSizeBytes, bool hash, CancellationToken cancellationToken, int children = 1)
    {
        var leafListeners = Enumerable.Range(0, children).Select(_ => Listen()).ToList();
        using var relayListener = Listen();
        var relayDone = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var leafPaths = Enumerable.Range(0, children).Select(i => Path.Combine(workDirectory, $"leaf-{i}.img")).ToList();
        var relayPath = Path.Combine(workDirectory, "relay.img");

        using var process = Process.GetCurrentProcess();
        var peak = new PeakResidentMemory();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var leaves = leafListeners.Select((listener, i) => Task.Run(
            async () =>
            {
                using var fromRelay = await listener.AcceptSocketAsync(cancellationToken);
                await ReceiveAsync(fromRelay, leafPaths[i], [], chunkSizeBytes, hash, cancellationToken);
                return watch.Elapsed;
            },
            cancellationToken)).ToList();
        var relay = Task.Run(
            async () =>
            {
                using var fromRoot = await relayListener.AcceptSocketAsync(cancellationToken);
                var toLeaves = new List<Socket>();
                try
                {
                    foreach (var listener in leafListeners)
                    {
                        toLeaves.Add(await ConnectAsync(listener, cancellationToken));
                    }

                    await ReceiveAsync(fromRoot, relayPath, toLeaves, chunkSizeBytes, hash, cancellationToken);
                }
                finally
                {
                    toLeaves.ForEach(s => s.Dispose());
                }

                relayDone.SetResult(watch.Elapsed);
            },
            cancellationToken);
        using (var toRelay = await ConnectAsync(relayListener, cancellationToken))
        {
            await SendAsync(imagePath, toRelay, chunkSizeBytes, hash, cancellationToken);
        }

        await relay;
        var leafDone = (await Task.WhenAll(leaves)).Max();
        process.Refresh();
        var timing = new RelayTiming(await relayDone.Task, leafDone, process.TotalProcessorTime - cpu, peak.Bytes);

        // Each round starts with no copies on disk, as the agents' rounds do (they end the operation, deleting theirs).
        foreach (var path in leafPaths.Append(relayPath))
        {
            File.Delete(path);
        }

        leafListeners.ForEach(l => l.Stop());
        return timing;
    }

    private static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    private static async Task<Socket> ConnectAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(listener.LocalEndpoint, cancellationToken);
        return socket;
    }

    private static async Task SendAsync(string imagePath, Socket to, int chunkSizeBytes, bool hash, CancellationToken cancellationToken)
    {
        var frame = new byte[HeaderBytes + chunkSizeBytes];
        await using var image = new FileStream(imagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        while (true)
        {
            var length = await image.ReadAtLeastAsync(frame.AsMemory(HeaderBytes, chunkSizeBytes), chunkSizeBytes, throwOnEndOfStream: false, cancellationToken);
            WriteHeader(frame, length, hash ? XxHash3.HashToUInt64(frame.AsSpan(HeaderBytes, length)) : 0);
            await SendAllAsync(to, frame.AsMemory(0, HeaderBytes + length), cancellationToken);
            if (length == 0)
            {
                return;
            }
        }
    }

    private static async Task ReceiveAsync(Socket from, string path, IReadOnlyList<Socket> forwardTo, int chunkSizeBytes, bool hash, CancellationToken cancellationToken)
    {
        var frame = new byte[HeaderBytes + chunkSizeBytes];
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        while (true)
        {
            await ReceiveExactlyAsync(from, frame.AsMemory(0, HeaderBytes), cancellationToken);
            var length = BinaryPrimitives.ReadInt32LittleEndian(frame);
            var expected = BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(4));
            await ReceiveExactlyAsync(from, frame.AsMemory(HeaderBytes, length), cancellationToken);
            if (hash && XxHash3.HashToUInt64(frame.AsSpan(HeaderBytes, length)) != expected)
            {
                throw new InvalidDataException($"A chunk of {length} bytes arrived at {path} with the wrong XxHash3.");
            }

            foreach (var leaf in forwardTo)
            {
                await SendAllAsync(leaf, frame.AsMemory(0, HeaderBytes + length), cancellationToken);
            }

            if (length == 0)
            {
                await file.FlushAsync(cancellationToken);
                return;
            }

            await file.WriteAsync(frame.AsMemory(HeaderBytes, length), cancellationToken);
        }
    }

    private static void WriteHeader(byte[] frame, int length, ulong hash)
    {
        BinaryPrimitives.WriteInt32LittleEndian(frame, length);
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(4), hash);
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None, cancellationToken)..];
        }
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException("The sending side closed the connection mid-frame.");
            }

            buffer = buffer[read..];
        }
    }
}
