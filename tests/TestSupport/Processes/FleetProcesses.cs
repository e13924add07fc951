using Treecast.Security;

namespace Treecast.TestSupport.Processes;

/// <summary>
/// The service processes of one fleet and the temporary directory they work in, where its agents' certificates are
/// made too (<c>certs/</c>, as the certs command lays them out). Disposing kills every process still running and then
/// deletes the directory, so nothing of a fleet outlives its test.
/// </summary>
public sealed class FleetProcesses : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];

    public FleetProcesses(string directoryPrefix) =>
        WorkDirectory = Directory.CreateTempSubdirectory(directoryPrefix).FullName;

    public string WorkDirectory { get; }

    /// <summary>The fleet's CA (<c>certs/ca</c>) and one folder of certificates per agent (<c>certs/{vmmId}</c>).</summary>
    public CertificateFolder Certificates => new(Path.Combine(WorkDirectory, "certs"));

    /// <summary>
    /// Issues <paramref name="vmmId"/>'s certificate into the fleet's folder (once; the CA too, on first use) and returns
    /// what the agent process needs to speak mutual TLS with it.
    /// </summary>
    public Dictionary<string, string> TlsEnvironment(string vmmId)
    {
        var certificates = Certificates;
        certificates.Create([new AgentCertificateRequest(vmmId, ["127.0.0.1", "localhost"])], TimeSpan.FromDays(1));
        return new() { ["Agent__Tls__Directory"] = certificates.AgentDirectory(vmmId) };
    }

    /// <summary>The credentials of an agent of this fleet, as its process reads them (for a test that acts as that agent).</summary>
    public AgentCredentials CredentialsOf(string vmmId)
    {
        var directory = Certificates.AgentDirectory(vmmId);
        return AgentCredentials.Load(
            Path.Combine(directory, CertificateFolder.CertificateFileName),
            Path.Combine(directory, CertificateFolder.KeyFileName),
            Path.Combine(directory, CertificateFolder.CaBundleFileName));
    }

    /// <summary>What every service process needs to join the fleet's bus on <paramref name="broker"/>.</summary>
    public static Dictionary<string, string> BusEnvironment(Uri broker) => new()
    {
        ["Bus__Transport"] = "RabbitMq",
        ["Bus__RabbitMqUri"] = broker.ToString(),
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["Logging__LogLevel__Default"] = "Information",
    };

    /// <summary>What an agent needs to join the fleet's bus: its own broker user, and the one whose commands it carries out.</summary>
    public static Dictionary<string, string> AgentBusEnvironment(BrokerAccounts accounts, string vmmId) =>
        new(BusEnvironment(accounts.AgentUri(vmmId))) { ["Agent__CommandSender"] = accounts.CommandSender };

    /// <summary>Writes <paramref name="yaml"/> as the fleet's one policy file; returns the directory to give the policy service.</summary>
    public async Task<string> WritePoliciesAsync(string yaml)
    {
        var policies = Path.Combine(WorkDirectory, "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "fleet.yaml"), yaml);
        return policies;
    }

    /// <summary>
    /// Starts <c>services/{service}</c> as a process called <paramref name="name"/>; an agent from its published image
    /// when tools/test.sh made one (<see cref="RepositoryLayout.AgentDll"/>).
    /// </summary>
    public ServiceProcess Start(string name, string service, IReadOnlyDictionary<string, string> environment)
    {
        var dll = service == "Agent" ? RepositoryLayout.AgentDll() : RepositoryLayout.ServiceDll(service);
        var process = ServiceProcess.Start(name, dll, environment);
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Starts one agent with its VMM in the fleet's directory, logged in as its own broker user, on mutual TLS with its
    /// certificates; only a host with <paramref name="vmCount"/> above 0 has VMs to send.
    /// </summary>
    public ServiceProcess StartAgent(BrokerAccounts accounts, string vmmId, string location, int vmCount, int imageMiB) =>
        Start(vmmId, "Agent", new Dictionary<string, string>(TlsEnvironment(vmmId).Concat(AgentBusEnvironment(accounts, vmmId)))
        {
            ["Agent__VmmId"] = vmmId,
            ["Agent__Location"] = location,
            ["Agent__GrpcPort"] = "0",
            ["Agent__VmCount"] = vmCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent__ImageMiB"] = imageMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent__WorkDirectory"] = Path.Combine(WorkDirectory, vmmId),
            ["Agent__HeartbeatInterval"] = "00:00:01",
        });

    /// <summary>Kills <paramref name="process"/>, as a crash or an OOM kill would: no graceful shutdown.</summary>
    public async Task KillAsync(ServiceProcess process)
    {
        _processes.Remove(process);
        await process.DisposeAsync();
    }

    /// <summary>True while no process of the fleet (other than those it killed on purpose) has exited.</summary>
    public bool AllRunning => _processes.All(p => !p.HasExited);

    /// <summary>The last lines of every running process, for failure messages.</summary>
    public string Logs() => string.Join(Environment.NewLine, _processes.Select(p => p.Tail(40)));

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        Directory.Delete(WorkDirectory, recursive: true);
    }
}
