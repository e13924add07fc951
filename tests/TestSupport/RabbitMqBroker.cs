using System.Diagnostics;
using Testcontainers.RabbitMq;
using Xunit;

namespace Treecast.TestSupport;

/// <summary>
/// A real RabbitMQ broker for integration tests: the one at <c>RABBITMQ_URI</c> when set (CI starts
/// Debian's rabbitmq-server and sets it), otherwise a Testcontainers.RabbitMq container where a Docker
/// engine answers. Where neither exists, <see cref="Uri"/> is null and tests skip with <see cref="Unavailable"/>.
/// On a shared broker each fixture gets a virtual host of its own (when <c>rabbitmqctl</c> can make one),
/// so test assemblies running side by side never consume each other's messages.
/// </summary>
public sealed class RabbitMqBroker : IAsyncLifetime
{
    // Pinned: a broker version we have tested against.
    private const string Image = "rabbitmq:3.13-management";

    private RabbitMqContainer? _container;
    private string? _virtualHost;
    private bool _madeUsers;

    public Uri? Uri { get; private set; }

    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("RABBITMQ_URI");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            Uri = await IsolateAsync(new Uri(fromEnvironment));
            return;
        }

        try
        {
            _container = new RabbitMqBuilder(Image).Build();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await _container.StartAsync(timeout.Token);
            Uri = new Uri(_container.GetConnectionString());
        }
        catch (Exception ex)
        {
            Unavailable = "no RabbitMQ broker: RABBITMQ_URI is not set and Testcontainers could not start one "
                + $"({ex.GetType().Name}: {FirstLine(ex.Message)}). Run tools/test.sh, which starts Debian's rabbitmq-server.";
            _container = null;
        }
    }

    /// <summary>Skips the calling test, with the reason, when no broker is reachable.</summary>
    public Uri Require()
    {
        Skip.If(Uri is null, Unavailable);
        return Uri!;
    }

    /// <summary>
    /// The broker users of every service role and of <paramref name="agentIds"/>, each service process its own, made by
    /// infra/rabbitmq/setup-users.sh: here with <c>rabbitmqctl</c> (named after the fixture's virtual host, since users
    /// belong to the whole broker, and deleted with it), or inside the Testcontainers broker. A broker neither reaches
    /// gets every process on the test's own account.
    /// </summary>
    public async Task<BrokerAccounts> CreateAccountsAsync(params string[] agentIds)
    {
        var broker = Uri ?? throw new InvalidOperationException("no broker: " + Unavailable);
        BrokerAccounts accounts;
        if (_container is not null)
        {
            accounts = await BrokerAccounts.CreateAsync(broker, agentIds, RunInContainerAsync);
        }
        else if (_virtualHost is not null)
        {
            _madeUsers = true;
            accounts = await BrokerAccounts.CreateAsync(broker, agentIds, BrokerAccounts.RunHereAsync, userPrefix: _virtualHost + ".");
        }
        else
        {
            accounts = BrokerAccounts.Shared(broker, "no rabbitmqctl reaches the broker at RABBITMQ_URI, so every process logs in as its user");
        }

        return accounts;
    }

    public async Task DisposeAsync()
    {
        if (_virtualHost is not null)
        {
            await RabbitMqCtlAsync("delete_vhost", _virtualHost);
            if (_madeUsers && await RabbitMqCtlAsync("-s", "list_users") is { } users)
            {
                // Every user named after the virtual host, also those of a set-up that failed half way.
                var ours = users.Split('\n').Select(line => line.Split('\t')[0]).Where(user => user.StartsWith(_virtualHost + ".", StringComparison.Ordinal));
                await Task.WhenAll(ours.Select(user => RabbitMqCtlAsync("delete_user", user)));
            }
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    private async Task<Uri> IsolateAsync(Uri shared)
    {
        if (!shared.IsLoopback)
        {
            return shared;
        }

        var name = "treecast-test-" + Guid.NewGuid().ToString("N")[..12];
        var user = Uri.UnescapeDataString(shared.UserInfo.Split(':')[0] is { Length: > 0 } u ? u : "guest");
        if (await RabbitMqCtlAsync("add_vhost", name) is null
            || await RabbitMqCtlAsync("set_permissions", "-p", name, user, ".*", ".*", ".*") is null)
        {
            // No rabbitmqctl here (not root, or a remote broker): share the default virtual host.
            return shared;
        }

        _virtualHost = name;
        return new UriBuilder(shared) { Path = "/" + name }.Uri;
    }

    private async Task<(int ExitCode, string Output)> RunInContainerAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        const string Script = "/tmp/treecast-setup-users.sh";
        await _container!.CopyAsync(await File.ReadAllBytesAsync(BrokerAccounts.Script), Script);
        var command = new List<string> { "env" };
        command.AddRange(environment.Select(e => $"{e.Key}={e.Value}"));
        command.AddRange(["bash", Script]);
        command.AddRange(arguments);
        var result = await _container.ExecAsync(command);
        return (result.ExitCode is { } code ? (int)code : -1, (result.Stdout + result.Stderr).Trim());
    }

    /// <summary>Runs rabbitmqctl; its output when it succeeded, null when it failed or is not here.</summary>
    private static async Task<string?> RabbitMqCtlAsync(params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo("rabbitmqctl") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-q");
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            await Task.WhenAll(output, error);
            return process.ExitCode == 0 ? await output : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or OperationCanceledException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
