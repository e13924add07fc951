using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Tests.Qemu;

[Collection(QemuCollection.Name)]
public sealed class QmpClientSpecs(QemuFixture qemu) : IAsyncLifetime
{
    private Process? _process;
    private QmpClient? _client;

    public async Task InitializeAsync()
    {
        if (qemu.SkipReason is not null)
        {
            return;
        }

        var directory = qemu.Sub("qmp");
        var socket = Path.Combine(directory, "m.sock");
        var start = new ProcessStartInfo(QemuFixture.Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[]
        {
            "-name", "qmp-vm", "-nodefaults", "-no-user-config", "-display", "none", "-accel", "tcg", "-m", "16M",
            "-drive", $"file={qemu.BootImage},format=raw,if=floppy,readonly=on",
            "-qmp", $"unix:{socket},server=on,wait=off", "-S",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (_client is null)
        {
            try
            {
                _client = await QmpClient.ConnectAsync(socket, "qmp-vm", NullLogger.Instance, CancellationToken.None);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException && DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_process is not null)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    [SkippableFact]
    public async Task Should_negotiate_and_report_the_run_state()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);

        var status = await _client!.ExecuteAsync("query-status", null, CancellationToken.None);

        Assert.Equal("prelaunch", status.GetProperty("status").GetString());
        Assert.False(status.GetProperty("running").GetBoolean());
        Assert.Matches(@"^\d+\.\d+\.\d+$", _client.QemuVersion);
    }

    [SkippableFact]
    public async Task Should_receive_resume_and_stop_events_while_commands_run_concurrently()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);

        await _client!.ExecuteAsync("cont", null, CancellationToken.None);

        // Replies and events interleave on one socket; many callers at once must each get their own reply.
        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _client.HumanMonitorCommandAsync("xp /4wx 0x500", CancellationToken.None)));
        await _client.ExecuteAsync("stop", null, CancellationToken.None);

        Assert.All(reads, r => Assert.StartsWith("0000000000000500:", r, StringComparison.Ordinal));
        Assert.Equal("RESUME", (await NextEventAsync(_client.Events)).Name);
        Assert.Equal("STOP", (await NextEventAsync(_client.Events)).Name);
        var status = await _client.ExecuteAsync("query-status", null, CancellationToken.None);
        Assert.Equal("paused", status.GetProperty("status").GetString());
    }

    [SkippableFact]
    public async Task Should_name_the_vm_and_the_command_when_qemu_refuses_it()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);

        var error = await Assert.ThrowsAsync<QmpException>(() => _client!.ExecuteAsync(
            "migrate", new System.Text.Json.Nodes.JsonObject { ["uri"] = "nonsense:" }, CancellationToken.None));

        Assert.StartsWith("QMP command 'migrate' on vm qmp-vm failed: GenericError: ", error.Message, StringComparison.Ordinal);
        Assert.Equal("GenericError", error.ErrorClass);
    }

    [SkippableFact]
    public async Task Should_fail_commands_and_end_the_events_when_qemu_dies()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);

        _process!.Kill();
        await _client!.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<QmpException>(() => _client.ExecuteAsync("query-status", null, CancellationToken.None));

        Assert.Contains("'query-status' on vm qmp-vm", error.Message, StringComparison.Ordinal);
        Assert.Contains("connection closed", error.Message, StringComparison.Ordinal);
        Assert.Null(error.ErrorClass);
        Assert.True(_client.Events.Completion.IsCompleted);
    }

    private static async Task<QmpEvent> NextEventAsync(ChannelReader<QmpEvent> events)
    {
        var next = await events.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(JsonValueKind.Null, next.Data.ValueKind);
        return next;
    }
}
