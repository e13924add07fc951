using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// One QMP connection to one QEMU: negotiates capabilities, runs commands (concurrent callers allowed, replies
/// matched by id) and queues every asynchronous event in <see cref="Events"/>.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private const string ClosedDescription = "the QMP connection closed (QEMU exited or closed its monitor)";

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, PendingCommand> _pending = new();

    // Unbounded: an event must never be dropped because nobody read the channel for a while.
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<JsonElement> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposing = new();
    private Task _reader = Task.CompletedTask;
    private long _lastId;
    private volatile bool _isClosed;
    private int _disposed;

    private QmpClient(Socket socket, string vmId, ILogger logger)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        VmId = vmId;
        _logger = logger;
    }

    /// <summary>The VM this monitor belongs to; every error message names it.</summary>
    public string VmId { get; }

    /// <summary>QEMU's version as its greeting announced it, such as <c>7.2.22</c>.</summary>
    public string QemuVersion { get; private set; } = string.Empty;

    /// <summary>Every event QEMU sent, in order; completes when the connection closes.</summary>
    public ChannelReader<QmpEvent> Events => _events.Reader;

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Connects to a QMP server socket (QEMU started with <c>-qmp unix:PATH,server=on,wait=off</c>).</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, string vmId, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return await AttachAsync(socket, vmId, logger, cancellationToken);
    }

    /// <summary>Takes over a connected socket (QEMU connected to us with <c>-qmp unix:PATH</c>) and negotiates capabilities.</summary>
    public static async Task<QmpClient> AttachAsync(Socket socket, string vmId, ILogger logger, CancellationToken cancellationToken)
    {
        var client = new QmpClient(socket, vmId, logger);
        try
        {
            client._reader = Task.Run(client.ReadAsync, CancellationToken.None);
            var greeting = await client._greeting.Task.WaitAsync(cancellationToken);
            client.QemuVersion = ParseVersion(greeting);
            await client.ExecuteAsync("qmp_capabilities", null, cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a command and returns its <c>return</c> member; a QMP error or a lost connection throws <see cref="QmpException"/>.</summary>
    public async Task<JsonElement> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        if (_disposed != 0)
        {
            // Same failure as a closed connection: to the caller, a disposed monitor is a gone monitor.
            throw new QmpException(VmId, command, null, "the QMP client was disposed");
        }

        var id = Interlocked.Increment(ref _lastId);
        var pending = new PendingCommand(command);
        _pending[id] = pending;

        // The reader sets the flag before it fails what is pending, so a command added after that sweep is caught here.
        if (_isClosed && _pending.TryRemove(id, out _))
        {
            throw new QmpException(VmId, command, null, ClosedDescription);
        }

        var message = new JsonObject { ["execute"] = command, ["id"] = id };
        if (arguments is not null)
        {
            message["arguments"] = arguments;
        }

        var line = Encoding.UTF8.GetBytes(message.ToJsonString() + "\n");
        try
        {
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                await _stream.WriteAsync(line, cancellationToken);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _pending.TryRemove(id, out _);
            throw new QmpException(VmId, command, null, ClosedDescription, e);
        }
        catch (OperationCanceledException)
        {
            _pending.TryRemove(id, out _);
            throw;
        }

        try
        {
            return await pending.Reply.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // QEMU will still answer; the reader drops a reply nobody waits for.
            _pending.TryRemove(id, out _);
            throw;
        }
    }

    /// <summary>Runs a human monitor (HMP) command line through QMP and returns its text output.</summary>
    public async Task<string> HumanMonitorCommandAsync(string commandLine, CancellationToken cancellationToken)
    {
        var result = await ExecuteAsync("human-monitor-command", new JsonObject { ["command-line"] = commandLine }, cancellationToken);
        return result.ValueKind == JsonValueKind.String ? result.GetString()! : result.GetRawText();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already disconnected.
        }
        catch (ObjectDisposedException)
        {
            // Already closed by the reader.
        }

        await _stream.DisposeAsync();
        await _reader;
        _disposing.Dispose();
        _writeLock.Dispose();
    }

    private async Task ReadAsync()
    {
        string reason = ClosedDescription;
        try
        {
            using var reader = new StreamReader(_stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
            while (await reader.ReadLineAsync(_disposing.Token) is { } line)
            {
                if (line.Length > 0)
                {
                    Dispatch(line);
                }
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            reason = "the QMP client was disposed";
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            reason = $"{ClosedDescription}: {e.Message}";
        }
        catch (Exception e)
        {
            // A reader that dies silently would leave every caller waiting forever.
            _logger.LogError(e, "QMP reader for VM {VmId} failed", VmId);
            reason = $"the QMP reader failed: {e.Message}";
        }
        finally
        {
            _isClosed = true;
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var pending))
                {
                    pending.Reply.TrySetException(new QmpException(VmId, pending.Command, null, reason));
                }
            }

            _greeting.TrySetException(new QmpException(VmId, "(greeting)", null, reason));
            _events.Writer.TryComplete();
            _closed.TrySetResult();
        }
    }

    private void Dispatch(string line)
    {
        JsonElement message;
        try
        {
            using var document = JsonDocument.Parse(line);
            message = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            _logger.LogWarning(e, "VM {VmId}: ignored a QMP line that is not JSON: {Line}", VmId, line);
            return;
        }

        if (message.TryGetProperty("event", out var name))
        {
            _events.Writer.TryWrite(new QmpEvent(
                name.GetString() ?? string.Empty,
                message.TryGetProperty("data", out var data) ? data : default,
                ParseTimestamp(message)));
            return;
        }

        if (message.TryGetProperty("QMP", out var greeting))
        {
            _greeting.TrySetResult(greeting);
            return;
        }

        if (!message.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id) || !_pending.TryRemove(id, out var pending))
        {
            _logger.LogDebug("VM {VmId}: dropped a QMP reply nobody waits for: {Line}", VmId, line);
            return;
        }

        if (message.TryGetProperty("return", out var result))
        {
            pending.Reply.TrySetResult(result);
        }
        else if (message.TryGetProperty("error", out var error))
        {
            var errorClass = error.TryGetProperty("class", out var c) ? c.GetString() : null;
            var description = error.TryGetProperty("desc", out var d) ? d.GetString() : null;
            pending.Reply.TrySetException(new QmpException(VmId, pending.Command, errorClass ?? "Error", description ?? line));
        }
        else
        {
            pending.Reply.TrySetException(new QmpException(VmId, pending.Command, null, $"QEMU sent a reply with neither return nor error: {line}"));
        }
    }

    private static DateTimeOffset ParseTimestamp(JsonElement message)
    {
        if (message.TryGetProperty("timestamp", out var timestamp)
            && timestamp.TryGetProperty("seconds", out var seconds) && seconds.TryGetInt64(out var s)
            && timestamp.TryGetProperty("microseconds", out var micros) && micros.TryGetInt64(out var us))
        {
            return DateTimeOffset.FromUnixTimeSeconds(s).AddTicks(us * TimeSpan.TicksPerMicrosecond);
        }

        return DateTimeOffset.UtcNow;
    }

    private static string ParseVersion(JsonElement greeting)
    {
        if (greeting.TryGetProperty("version", out var version) && version.TryGetProperty("qemu", out var qemu)
            && qemu.TryGetProperty("major", out var major) && qemu.TryGetProperty("minor", out var minor) && qemu.TryGetProperty("micro", out var micro))
        {
            return $"{major.GetInt32()}.{minor.GetInt32()}.{micro.GetInt32()}";
        }

        return "unknown";
    }

    private sealed class PendingCommand(string command)
    {
        public string Command { get; } = command;

        public TaskCompletionSource<JsonElement> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
