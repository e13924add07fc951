using System.Diagnostics;
using System.Globalization;
using Treecast.TestSupport.Processes;

namespace Treecast.TestSupport;

/// <summary>
/// The broker users of a test fleet, one per service role, made by <c>infra/rabbitmq/setup-users.sh</c> (the same script
/// a deployment runs), and the URI each service process logs in with. Where the test cannot make users (a remote broker
/// it has no <c>rabbitmqctl</c> for), every process shares the test's own account: <see cref="PerService"/> is false and
/// <see cref="Unavailable"/> says why.
/// </summary>
public sealed class BrokerAccounts
{
    public const string Policy = "treecast-policy";
    public const string Topology = "treecast-topology";
    public const string Scheduler = "treecast-scheduler";
    public const string Monitoring = "treecast-monitoring";

    private readonly Uri _broker;
    private readonly Dictionary<string, string> _passwords;

    private BrokerAccounts(Uri broker, string userPrefix, Dictionary<string, string> passwords, string? unavailable)
    {
        _broker = broker;
        UserPrefix = userPrefix;
        _passwords = passwords;
        Unavailable = unavailable;
    }

    /// <summary>Runs <c>setup-users.sh</c> with these arguments and environment; returns its exit code and output.</summary>
    public delegate Task<(int ExitCode, string Output)> ScriptRunner(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment);

    public bool PerService => Unavailable is null;

    /// <summary>Why every process shares the test's account, or null when each has its own.</summary>
    public string? Unavailable { get; }

    /// <summary>Put before every user name (users belong to the whole broker; fleets sharing one need their own).</summary>
    public string UserPrefix { get; }

    /// <summary>The broker user whose commands agents carry out: the policy service's (<c>Agent:CommandSender</c>).</summary>
    public string CommandSender => PerService ? UserPrefix + Policy : SharedUser;

    public Uri PolicyUri => For(Policy);

    public Uri TopologyUri => For(Topology);

    public Uri SchedulerUri => For(Scheduler);

    public Uri MonitoringUri => For(Monitoring);

    private string SharedUser => Uri.UnescapeDataString(_broker.UserInfo.Split(':')[0] is { Length: > 0 } user ? user : "guest");

    public static string AgentUser(string vmmId) => $"treecast-agent-{vmmId}";

    public Uri AgentUri(string vmmId) => For(AgentUser(vmmId));

    /// <summary>The URI <paramref name="user"/> (a name without the prefix, such as <see cref="Topology"/>) logs in with.</summary>
    public Uri For(string user)
    {
        if (!PerService)
        {
            return _broker;
        }

        if (!_passwords.TryGetValue(user, out var password))
        {
            throw new InvalidOperationException($"no broker user {UserPrefix}{user}: give its agent to CreateAsync");
        }

        return new UriBuilder(_broker) { UserName = Uri.EscapeDataString(UserPrefix + user), Password = password }.Uri;
    }

    /// <summary>Every process logs in as <paramref name="broker"/>'s own user, for <paramref name="reason"/>.</summary>
    public static BrokerAccounts Shared(Uri broker, string reason) => new(broker, string.Empty, [], reason);

    /// <summary>
    /// Makes (or updates) the users of every role and of each agent in <paramref name="agentIds"/> on the virtual host of
    /// <paramref name="broker"/>, with fresh passwords, by running the script through <paramref name="run"/>.
    /// </summary>
    public static async Task<BrokerAccounts> CreateAsync(
        Uri broker,
        IEnumerable<string> agentIds,
        ScriptRunner run,
        string userPrefix = "",
        IEnumerable<string>? extraArguments = null)
    {
        var agents = agentIds.Distinct().ToList();
        var passwords = new[] { Policy, Topology, Scheduler, Monitoring }.Concat(agents.Select(AgentUser))
            .ToDictionary(user => user, _ => Guid.NewGuid().ToString("N"));
        var environment = new Dictionary<string, string>
        {
            ["TREECAST_RABBITMQ_PASSWORD_POLICY"] = passwords[Policy],
            ["TREECAST_RABBITMQ_PASSWORD_TOPOLOGY"] = passwords[Topology],
            ["TREECAST_RABBITMQ_PASSWORD_SCHEDULER"] = passwords[Scheduler],
            ["TREECAST_RABBITMQ_PASSWORD_MONITORING"] = passwords[Monitoring],
        };
        foreach (var agent in agents)
        {
            environment[PasswordVariable(agent)] = passwords[AgentUser(agent)];
        }

        var arguments = new List<string> { "--quiet", "--vhost", VirtualHost(broker) };
        if (userPrefix.Length > 0)
        {
            arguments.AddRange(["--user-prefix", userPrefix]);
        }

        arguments.AddRange(agents.SelectMany(agent => new[] { "--agent", agent }));
        arguments.AddRange(extraArguments ?? []);
        var (exitCode, output) = await run(arguments, environment);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"setup-users.sh {string.Join(' ', arguments)} failed ({exitCode}): {output}");
        }

        return new BrokerAccounts(broker, userPrefix, passwords, null);
    }

    /// <summary>Runs the repository's script here, where <c>rabbitmqctl</c> reaches the broker.</summary>
    public static async Task<(int ExitCode, string Output)> RunHereAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output + await error).Trim());
    }

    /// <summary>The script every broker's users are made with.</summary>
    public static string Script { get; } = Path.Combine(RepositoryLayout.Root, "infra", "rabbitmq", "setup-users.sh");

    /// <summary>The variable the script reads an agent's password from: host-01 → TREECAST_RABBITMQ_PASSWORD_AGENT_HOST_01.</summary>
    public static string PasswordVariable(string vmmId) =>
        "TREECAST_RABBITMQ_PASSWORD_AGENT_"
        + string.Concat(vmmId.ToUpper(CultureInfo.InvariantCulture).Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));

    private static string VirtualHost(Uri broker) =>
        broker.AbsolutePath is "" or "/" ? "/" : Uri.UnescapeDataString(broker.AbsolutePath.TrimStart('/'));
}
