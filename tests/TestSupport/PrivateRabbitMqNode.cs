using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Treecast.TestSupport.Network;
using Xunit;

namespace Treecast.TestSupport;

/// <summary>
/// A RabbitMQ node of the test's own (Debian's rabbitmq-server on a free port, its database in a temporary
/// directory), for tests that stop and start the broker: stopping the shared broker would break every other test
/// assembly running beside them. Needs <c>rabbitmq-server</c> and root (it runs the node as the rabbitmq user);
/// where either is missing, <see cref="Unavailable"/> says why and tests skip.
/// </summary>
public sealed class PrivateRabbitMqNode : IAsyncLifetime
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(2);

    private string? _directory;
    private string _nodeName = string.Empty;

    public Uri? Uri { get; private set; }

    public string? Unavailable { get; private set; }

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/sbin/rabbitmq-server") && !File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server"))
        {
            Unavailable = "no private RabbitMQ node: rabbitmq-server is not installed (sudo apt-get install rabbitmq-server)";
            return;
        }

        if (Environment.UserName != "root")
        {
            Unavailable = "no private RabbitMQ node: starting one needs root (it runs as the rabbitmq user)";
            return;
        }

        Port = LoopbackPort.Free();
        _nodeName = $"treecast-{Port}@localhost";
        _directory = Directory.CreateTempSubdirectory("treecast-rabbit-").FullName;
        Directory.CreateDirectory(Path.Combine(_directory, "mnesia"));
        Directory.CreateDirectory(Path.Combine(_directory, "log"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "plugins"), "[].");
        await RunAsync("chown", "-R", "rabbitmq:rabbitmq", _directory);
        var start = NodeCommand("rabbitmq-server", "-detached");
        if (await RunAsync(start) != 0)
        {
            Unavailable = $"the private RabbitMQ node did not start (see {_directory}/log)";
            return;
        }

        if (!await WaitForPortAsync(open: true, StartLimit))
        {
            Unavailable = $"the private RabbitMQ node did not open port {Port} within {StartLimit} (see {_directory}/log)";
            return;
        }

        Uri = new Uri($"amqp://guest:guest@localhost:{Port}/");
    }

    public Uri Require()
    {
        Skip.If(Uri is null, Unavailable);
        return Uri!;
    }

    /// <summary>The broker users of every service role and of <paramref name="agentIds"/>, made by infra/rabbitmq/setup-users.sh.</summary>
    public Task<BrokerAccounts> CreateAccountsAsync(params string[] agentIds) =>
        BrokerAccounts.CreateAsync(Require(), agentIds, BrokerAccounts.RunHereAsync, extraArguments: ["--node", _nodeName]);

    /// <summary>Stops the broker application (connections drop, durable queues and their messages stay).</summary>
    public async Task StopBrokerAsync()
    {
        await RunAsync(NodeCommand("rabbitmqctl", "-n", _nodeName, "stop_app"));
        await WaitForPortAsync(open: false, StartLimit);
    }

    /// <summary>Starts the broker application again and waits until it takes connections.</summary>
    public async Task StartBrokerAsync()
    {
        await RunAsync(NodeCommand("rabbitmqctl", "-n", _nodeName, "start_app"));
        if (!await WaitForPortAsync(open: true, StartLimit))
        {
            throw new TimeoutException($"the private RabbitMQ node did not take connections again within {StartLimit}");
        }
    }

    public async Task DisposeAsync()
    {
        if (_directory is null)
        {
            return;
        }

        await RunAsync(NodeCommand("rabbitmqctl", "-n", _nodeName, "stop"));
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A node that would not stop keeps its files; the temporary directory is the system's to clean.
        }
    }

    private ProcessStartInfo NodeCommand(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["RABBITMQ_NODENAME"] = _nodeName;
        start.Environment["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory!, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(_directory!, "log");
        start.Environment["RABBITMQ_PID_FILE"] = Path.Combine(_directory!, "pid");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory!, "plugins");
        start.WorkingDirectory = Path.GetTempPath();
        return start;
    }

    private async Task<bool> WaitForPortAsync(bool open, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (IsOpen(Port) == open)
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    private static bool IsOpen(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static Task<int> RunAsync(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return RunAsync(start);
    }

    private static async Task<int> RunAsync(ProcessStartInfo start)
    {
        try
        {
            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(StartLimit);
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            await Task.WhenAll(output, error);
            return process.ExitCode;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            return -1;
        }
    }
}
