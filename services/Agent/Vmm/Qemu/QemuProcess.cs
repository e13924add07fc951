using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// One QEMU process running one VM, with its QMP connection. QEMU connects to a socket we listen on, so a QEMU
/// that refuses its command line is seen exiting instead of being polled for.
/// </summary>
internal sealed class QemuProcess : IAsyncDisposable
{
    private const int StandardErrorLimit = 8 * 1024;

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly StringBuilder _standardError = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Never disposed: it has no timer, and tokens handed out must stay valid after this object is gone.
    private readonly CancellationTokenSource _exitedToken = new();
    private TaskCompletionSource<string>? _migrationEnd;
    private Task _eventPump = Task.CompletedTask;
    private bool _stopping;

    private QemuProcess(string vmmId, string vmId, Process process, ILogger logger)
    {
        VmmId = vmmId;
        VmId = vmId;
        _process = process;
        _logger = logger;
    }

    public string VmmId { get; }

    public string VmId { get; }

    public int ProcessId => _process.Id;

    public QmpClient Qmp { get; private set; } = null!;

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Cancelled when the process exits, so a wait on something else (a pipe, a socket) ends with it.</summary>
    public CancellationToken ExitToken => _exitedToken.Token;

    /// <summary>True once <see cref="StopAsync"/> began: an exit from then on is not a failure.</summary>
    public bool IsStopping
    {
        get
        {
            lock (_gate)
            {
                return _stopping;
            }
        }
    }

    /// <summary>The last lines QEMU wrote to its standard error (where it explains why it refused or failed).</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _standardError.ToString().Trim();
            }
        }
    }

    /// <summary>Why the process ended, for error messages: exit code or signal, and what QEMU said.</summary>
    public string ExitDescription
    {
        get
        {
            if (!_process.HasExited)
            {
                return "QEMU is still running";
            }

            // On Unix a process killed by a signal reports 128 + the signal number.
            var code = _process.ExitCode;
            var how = code > 128 ? $"QEMU was killed by signal {code - 128}" : $"QEMU exited with code {code}";
            var said = StandardError;
            return said.Length == 0 ? how : $"{how}: {said.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>
    /// Starts QEMU paused (<c>-S</c>) for <paramref name="definition"/>, waits for it to connect its monitor and
    /// negotiates QMP. <paramref name="incoming"/> starts it waiting for a migration stream (<c>-incoming defer</c>).
    /// </summary>
    public static async Task<QemuProcess> StartAsync(
        string vmmId,
        string vmId,
        string binary,
        string accelerator,
        VmDefinition definition,
        bool incoming,
        string qmpSocketPath,
        TimeSpan timeout,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        File.Delete(qmpSocketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(qmpSocketPath));
        listener.Listen(1);

        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in QemuCommandLine.Arguments(vmId, accelerator, definition, incoming, qmpSocketPath))
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException("Process.Start returned no process.");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            File.Delete(qmpSocketPath);
            throw new QemuVmException(
                vmId, $"VM {vmId} on {vmmId} could not start: '{binary}' could not be run ({e.Message}); install qemu-system-x86 or set Agent:Qemu:Binary.", e);
        }

        var qemu = new QemuProcess(vmmId, vmId, process, logger);
        process.ErrorDataReceived += (_, line) => qemu.OnStandardError(line.Data);
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _ = qemu.WatchExitAsync();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var accept = listener.AcceptAsync(deadline.Token).AsTask();
            var first = await Task.WhenAny(accept, qemu.Exited);
            if (first != accept)
            {
                // Let the stderr reader catch up with the last lines before quoting them.
                await Task.Delay(50, CancellationToken.None);
                throw new QemuVmException(
                    vmId,
                    $"VM {vmId} on {vmmId} could not start: {qemu.ExitDescription}. QEMU was given machine '{definition.MachineType}', " +
                    $"{definition.MemoryMiB} MiB, boot image {definition.BootImage ?? "(none)"}, accelerator '{accelerator}'; fix the VM definition or Agent:Qemu.");
            }

            var socket = await accept;
            qemu.Qmp = await QmpClient.AttachAsync(socket, vmId, logger, deadline.Token);
            qemu._eventPump = qemu.PumpEventsAsync();

            // MIGRATION events are how a save or a load learns it ended; without this capability QEMU sends none.
            await qemu.Qmp.ExecuteAsync(
                "migrate-set-capabilities",
                new JsonObject { ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "events", ["state"] = true }) },
                deadline.Token);
            logger.LogDebug("Started QEMU {QemuVersion} (pid {ProcessId}) for VM {VmId}{Incoming}", qemu.Qmp.QemuVersion, process.Id, vmId, incoming ? " in incoming mode" : string.Empty);
            return qemu;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await qemu.DisposeAsync();
            throw new QemuVmException(vmId, $"VM {vmId} on {vmmId} could not start: QEMU did not open its monitor within {timeout.TotalSeconds:0} s.");
        }
        catch (Exception e) when (e is QmpException or SocketException)
        {
            await qemu.DisposeAsync();
            throw new QemuVmException(vmId, $"VM {vmId} on {vmmId} could not start: {qemu.ExitDescription}; {e.Message}", e);
        }
        catch
        {
            await qemu.DisposeAsync();
            throw;
        }
        finally
        {
            File.Delete(qmpSocketPath);
        }
    }

    /// <summary>
    /// Runs a QMP command. A monitor that closed (QEMU gone or going) fails the command with what QEMU's exit says, naming
    /// the VM and its VMM; QEMU's refusals stay <see cref="QmpException"/>s.
    /// </summary>
    public async Task<JsonElement> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await Qmp.ExecuteAsync(command, arguments, cancellationToken);
        }
        catch (QmpException e) when (e.ErrorClass is null)
        {
            // The monitor closed: the process is gone or going. Its exit explains more than the socket does.
            await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            throw new QemuVmException(VmId, $"VM {VmId} on {VmmId}: {e.Message}; {ExitDescription}", e);
        }
    }

    /// <summary>
    /// Arms a wait for the end of the next migration (out or in); call before starting it. The task gives the final
    /// status (<c>completed</c>, <c>failed</c>, <c>cancelled</c>), or fails with an <see cref="IOException"/> when QEMU exits first.
    /// </summary>
    public Task<string> ExpectMigrationEnd()
    {
        var end = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _migrationEnd = end;
        }

        if (_exited.Task.IsCompleted)
        {
            end.TrySetException(new IOException(ExitDescription));
        }

        return end.Task;
    }

    /// <summary>Asks QEMU to quit, and kills it when it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        lock (_gate)
        {
            _stopping = true;
        }

        if (!_exited.Task.IsCompleted && Qmp is not null)
        {
            try
            {
                using var quitTimeout = new CancellationTokenSource(grace);
                await Qmp.ExecuteAsync("quit", null, quitTimeout.Token);
                await _exited.Task.WaitAsync(grace);
            }
            catch (Exception e) when (e is QmpException or OperationCanceledException or TimeoutException)
            {
                // A QEMU that cannot quit politely is killed below.
            }
        }

        Kill();
        await _exited.Task;
    }

    /// <summary>Kills the process at once (SIGKILL); does not wait.</summary>
    public void Kill()
    {
        lock (_gate)
        {
            _stopping = true;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_exited.Task.IsCompleted)
        {
            await StopAsync(TimeSpan.FromSeconds(2));
        }

        if (Qmp is not null)
        {
            await Qmp.DisposeAsync();
        }

        await _eventPump;
        _process.Dispose();
    }

    private void OnStandardError(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _standardError.AppendLine(line);
            if (_standardError.Length > StandardErrorLimit)
            {
                _standardError.Remove(0, _standardError.Length - StandardErrorLimit);
            }
        }
    }

    private async Task WatchExitAsync()
    {
        try
        {
            await _process.WaitForExitAsync();
        }
        finally
        {
            TaskCompletionSource<string>? migration;
            lock (_gate)
            {
                migration = _migrationEnd;
            }

            migration?.TrySetException(new IOException(ExitDescription));
            _exited.TrySetResult();
            _exitedToken.Cancel();
        }
    }

    private async Task PumpEventsAsync()
    {
        await foreach (var qmpEvent in Qmp.Events.ReadAllAsync())
        {
            _logger.LogDebug("VM {VmId}: QMP event {QmpEvent} {QmpEventData}", VmId, qmpEvent.Name, qmpEvent.Data.ValueKind == JsonValueKind.Undefined ? string.Empty : qmpEvent.Data.GetRawText());
            var status = qmpEvent.Name == "MIGRATION" && qmpEvent.Data.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (status is "completed" or "failed" or "cancelled")
            {
                TaskCompletionSource<string>? migration;
                lock (_gate)
                {
                    migration = _migrationEnd;
                }

                migration?.TrySetResult(status);
            }
            else if (qmpEvent.Name == "SHUTDOWN" && !IsStopping)
            {
                _logger.LogWarning("VM {VmId}: QEMU reports a shutdown nobody asked for: {QmpEventData}", VmId, qmpEvent.Data.GetRawText());
            }
        }
    }
}
