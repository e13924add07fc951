using System.Buffers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// Moves a VM's full state in and out of QEMU as a migration over a unix socket: out of a stopped VM into a state
/// file (hashed as it arrives), and from an image into a QEMU started with <c>-incoming defer</c>.
/// </summary>
internal sealed class QemuMigration(string vmmId, TimeSpan timeout)
{
    private const int StreamBufferBytes = 256 * 1024;

    /// <summary>
    /// Starts migrating the stopped VM to a socket we listen on and returns once QEMU has connected: the header and the
    /// stream are then spooled to its state file in the background, hashed as they arrive, and <see cref="SavingImage.Sealed"/>
    /// completes when QEMU reports the migration completed (or faults, naming the VM, when it failed or QEMU died).
    /// </summary>
    /// <returns>The growing image, and the background spooling (it never faults; the image carries the outcome).</returns>
    public async Task<(SavingImage Image, Task Spooling)> StartSaveAsync(QemuProcess process, QemuStateHeader header, string statePath, string socketPath, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        Socket? connection = null;
        try
        {
            using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                listener.Bind(new UnixDomainSocketEndPoint(socketPath));
                listener.Listen(1);

                // A QEMU that dies ends the wait for its stream at once.
                using var connect = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, process.ExitToken);
                var end = process.ExpectMigrationEnd();
                await process.Qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{socketPath}" }, deadline.Token);
                var accept = listener.AcceptAsync(connect.Token).AsTask();
                if (await Task.WhenAny(accept, end) != accept)
                {
                    await end;
                    throw new QemuVmException(process.VmId, $"VM {process.VmId} on {vmmId}: QEMU ended the migration ({end.Result}) before connecting to save it.");
                }

                connection = await accept;
                var image = new SavingImage(process.VmId, statePath + ".partial", statePath);
                var spooling = SpoolAsync(process, header, image, connection, end, deadline, cancellationToken);
                connection = null;
                return (image, spooling);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or QmpException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            connection?.Dispose();
            deadline.Dispose();
            await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None));
            var reason = process.Exited.IsCompleted
                ? process.ExitDescription
                : e is OperationCanceledException ? $"it took longer than {timeout}" : e.Message;
            throw new QemuVmException(process.VmId, $"VM {process.VmId} on {vmmId}: saving its state failed before the stream started: {reason}", e);
        }
        catch
        {
            connection?.Dispose();
            deadline.Dispose();
            throw;
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    private async Task SpoolAsync(
        QemuProcess process,
        QemuStateHeader header,
        SavingImage image,
        Socket connection,
        Task<string> end,
        CancellationTokenSource deadline,
        CancellationToken cancellationToken)
    {
        await Task.Yield();
        long bytes = 0;
        try
        {
            using (connection)
            {
                // A QEMU that dies ends the wait for the rest of its stream at once.
                using var receive = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, process.ExitToken);
                var headerBytes = header.Encode();
                await image.WriteAsync(headerBytes, deadline.Token);
                bytes += headerBytes.Length;

                var buffer = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);
                try
                {
                    int read;
                    while ((read = await ReceiveAsync(connection, buffer, receive.Token)) > 0)
                    {
                        await image.WriteAsync(buffer.AsMemory(0, read), deadline.Token);
                        bytes += read;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            // The end of the stream is not the end of the migration: only QEMU knows whether it completed.
            var status = await end.WaitAsync(deadline.Token);
            if (status != "completed")
            {
                throw new QemuVmException(process.VmId, $"VM {process.VmId} on {vmmId}: saving its state failed: migration {status}{await MigrationErrorAsync(process)}.");
            }

            await image.SealAsync();
        }
        catch (QemuVmException e)
        {
            await image.FailAsync(e);
        }
        catch (Exception e) when (e is IOException or SocketException or QmpException or OperationCanceledException)
        {
            await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None));
            var reason = process.Exited.IsCompleted
                ? process.ExitDescription
                : e is OperationCanceledException
                    ? cancellationToken.IsCancellationRequested ? "the VMM is stopping" : $"it took longer than {timeout}"
                    : e.Message;
            await image.FailAsync(new QemuVmException(process.VmId, $"VM {process.VmId} on {vmmId}: saving its state failed after {bytes} bytes: {reason}", e));
        }
        catch (Exception e)
        {
            await image.FailAsync(new QemuVmException(process.VmId, $"VM {process.VmId} on {vmmId}: saving its state failed after {bytes} bytes: {e.Message}", e));
        }
        finally
        {
            deadline.Dispose();
        }
    }

    /// <summary>
    /// Feeds the rest of <paramref name="image"/> to an incoming QEMU, adding it to <paramref name="digest"/>, and waits
    /// until QEMU has loaded it; returns the bytes fed.
    /// </summary>
    public async Task<long> LoadAsync(QemuProcess process, Stream image, IncrementalHash digest, string socketPath, CancellationToken cancellationToken)
    {
        var vmId = process.VmId;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);

        // A QEMU that dies ends the feed at once, even while the image (a pipe, one day) has nothing new to read.
        using var feed = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, process.ExitToken);
        long bytes = 0;
        try
        {
            var end = process.ExpectMigrationEnd();
            await process.Qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"unix:{socketPath}" }, feed.Token);
            using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), feed.Token);
                await using (var stream = new NetworkStream(socket, ownsSocket: false))
                {
                    var buffer = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);
                    try
                    {
                        int read;
                        while ((read = await image.ReadAsync(buffer.AsMemory(0, StreamBufferBytes), feed.Token)) > 0)
                        {
                            digest.AppendData(buffer, 0, read);
                            await stream.WriteAsync(buffer.AsMemory(0, read), feed.Token);
                            bytes += read;
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                socket.Shutdown(SocketShutdown.Send);
            }

            var status = await end.WaitAsync(deadline.Token);
            if (status != "completed")
            {
                throw new QemuVmException(vmId, $"VM {vmId} on {vmmId}: its state did not load ({bytes} bytes fed): migration {status}: {await LoadFailureAsync(process)}");
            }

            var runState = await process.Qmp.ExecuteAsync("query-status", null, deadline.Token);
            var state = runState.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (state != "paused")
            {
                throw new QemuVmException(vmId, $"VM {vmId} on {vmmId}: after loading its state QEMU reports it {state ?? "in an unknown state"}, not paused.");
            }

            return bytes;
        }
        catch (Exception e) when (e is IOException or SocketException or QmpException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // QEMU closed its end or exited: it died, or it rejected the stream and is exiting. Its exit says why.
            var reason = e is OperationCanceledException && !process.Exited.IsCompleted
                ? $"it took longer than {timeout}"
                : await LoadFailureAsync(process);
            throw new QemuVmException(vmId, $"VM {vmId} on {vmmId}: its state did not load ({bytes} bytes fed): {reason}", e);
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    private static async Task<string> LoadFailureAsync(QemuProcess process)
    {
        // An incoming QEMU exits when a load fails; give it a moment so its last words can be quoted.
        await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
        return process.Exited.IsCompleted ? process.ExitDescription : process.StandardError is { Length: > 0 } said ? said.ReplaceLineEndings(" ") : "QEMU gave no reason";
    }

    private static async Task<string> MigrationErrorAsync(QemuProcess process)
    {
        try
        {
            var info = await process.Qmp.ExecuteAsync("query-migrate", null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
            return info.TryGetProperty("error-desc", out var error) ? $": {error.GetString()}" : string.Empty;
        }
        catch (Exception e) when (e is QmpException or TimeoutException)
        {
            return process.Exited.IsCompleted ? $": {process.ExitDescription}" : string.Empty;
        }
    }

    private static async Task<int> ReceiveAsync(Socket connection, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.ReceiveAsync(buffer.AsMemory(0, StreamBufferBytes), SocketFlags.None, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // QEMU went away mid-stream; the migration's end (failed, or the process's exit) says why.
            return 0;
        }
    }
}
