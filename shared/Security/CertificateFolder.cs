using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Treecast.Security;

/// <summary>
/// A fleet's certificates on disk: the CA in <c>ca/ca.crt</c> and <c>ca/ca.key</c> (or a directory of its own), and per
/// agent a directory <c>{vmmId}/</c> holding <c>tls.crt</c>, <c>tls.key</c> and <c>ca.crt</c> (the CA bundle), which is
/// what <c>Agent:Tls:Directory</c> points at. <see cref="Create"/> keeps what is there and adds what is missing.
/// </summary>
public sealed partial class CertificateFolder(string root, string? caDirectory = null)
{
    public const string CertificateFileName = "tls.crt";
    public const string KeyFileName = "tls.key";
    public const string CaBundleFileName = "ca.crt";

    public string Root { get; } = Path.GetFullPath(root);

    public string CaDirectory { get; } = Path.GetFullPath(caDirectory ?? Path.Combine(root, "ca"));

    public string CaCertificateFile => Path.Combine(CaDirectory, "ca.crt");

    public string CaKeyFile => Path.Combine(CaDirectory, "ca.key");

    public string AgentDirectory(string vmmId) => Path.Combine(Root, vmmId);

    /// <summary>
    /// Makes the folder hold a CA (kept when there is one) and a certificate for every agent in <paramref name="agents"/>
    /// (kept when it is there and still valid under the CA, reissued when <paramref name="renew"/> or when it is not), and
    /// writes every agent's CA bundle: the CA and <paramref name="alsoTrusted"/> (CA certificates of a rotation). With no
    /// agents named, the agents already in the folder are meant. Returns one line per thing done.
    /// </summary>
    public IReadOnlyList<string> Create(
        IReadOnlyList<AgentCertificateRequest> agents,
        TimeSpan agentValidity,
        bool renew = false,
        IReadOnlyList<X509Certificate2>? alsoTrusted = null,
        TimeProvider? clock = null)
    {
        foreach (var agent in agents)
        {
            CheckVmmId(agent.VmmId);
        }

        var said = new List<string>();
        var authority = LoadOrCreateAuthority(said, clock);
        var bundle = new[] { authority.Certificate }.Concat(alsoTrusted ?? []).ToList();
        var trust = new FleetTrust([authority.Certificate]);
        var named = agents.Count > 0 ? agents : ExistingAgents().Select(id => new AgentCertificateRequest(id, [])).ToList();
        if (named.Count == 0)
        {
            throw new CertificateMaterialException($"{Root} holds no agent yet: name at least one with --vmm, for example --vmm host-01.");
        }

        foreach (var agent in named)
        {
            var directory = AgentDirectory(agent.VmmId);
            Directory.CreateDirectory(directory);
            var certificateFile = Path.Combine(directory, CertificateFileName);
            var existing = ReadExisting(certificateFile);
            var problem = existing is null ? null
                : !File.Exists(Path.Combine(directory, KeyFileName)) ? $"{KeyFileName} is missing"
                : Problem(existing, agent.VmmId, trust);
            if (existing is not null && problem is null && !renew)
            {
                said.Add($"{agent.VmmId}: kept {certificateFile} (valid until {existing.NotAfter.ToUniversalTime():yyyy-MM-dd})");
            }
            else
            {
                // Renewed without names: the names it had.
                var hostNames = agent.HostNames.Count == 0 && existing is not null ? HostNamesOf(existing) : agent.HostNames;
                using var issued = authority.Issue(agent.VmmId, hostNames, agentValidity, clock);
                PemFiles.WritePrivateKey(Path.Combine(directory, KeyFileName), issued);
                PemFiles.WriteCertificates(certificateFile, [issued]);
                var why = existing is null ? "issued" : problem is null ? "renewed" : $"reissued ({problem})";
                said.Add($"{agent.VmmId}: {why} {certificateFile} (valid until {issued.NotAfter.ToUniversalTime():yyyy-MM-dd})");
            }
        }

        foreach (var vmmId in ExistingAgents())
        {
            PemFiles.WriteCertificates(Path.Combine(AgentDirectory(vmmId), CaBundleFileName), bundle);
        }

        said.Add($"CA bundle of every agent: {string.Join(", ", bundle.Select(c => $"'{c.Subject}'"))}");
        return said;
    }

    /// <summary>Refuses an id that cannot name an agent's directory, in one line that says what would do.</summary>
    public void CheckVmmId(string vmmId)
    {
        if (!VmmIdPattern().IsMatch(vmmId))
        {
            throw new CertificateMaterialException(
                $"VMM id '{vmmId}' cannot name an agent's directory; use letters, digits, '.', '_' and '-', starting with a letter or digit, for example host-01.");
        }

        if (string.Equals(AgentDirectory(vmmId), CaDirectory, StringComparison.Ordinal))
        {
            throw new CertificateMaterialException($"VMM id '{vmmId}' would share the CA's directory {CaDirectory}; choose another id.");
        }
    }

    private FleetCertificateAuthority LoadOrCreateAuthority(List<string> said, TimeProvider? clock)
    {
        var hasCertificate = File.Exists(CaCertificateFile);
        var hasKey = File.Exists(CaKeyFile);
        if (hasCertificate && hasKey)
        {
            var kept = FleetCertificateAuthority.Load(CaCertificateFile, CaKeyFile);
            said.Add($"CA: kept {CaCertificateFile} (valid until {kept.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})");
            return kept;
        }

        if (hasCertificate || hasKey)
        {
            var missing = hasCertificate ? CaKeyFile : CaCertificateFile;
            throw new CertificateMaterialException(
                $"{missing} is missing beside {(hasCertificate ? CaCertificateFile : CaKeyFile)}; restore it, or move {CaDirectory} away to start a new CA (every agent then needs new certificates).");
        }

        Directory.CreateDirectory(CaDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(CaDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var created = FleetCertificateAuthority.Create(clock: clock);
        PemFiles.WritePrivateKey(CaKeyFile, created.Certificate);
        PemFiles.WriteCertificates(CaCertificateFile, [created.Certificate]);
        said.Add($"CA: created {CaCertificateFile} (valid until {created.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}); keep {CaKeyFile} away from the agents");
        return created;
    }

    private IEnumerable<string> ExistingAgents() =>
        Directory.Exists(Root)
            ? Directory.EnumerateDirectories(Root)
                .Where(d => File.Exists(Path.Combine(d, CertificateFileName)) && !string.Equals(Path.GetFullPath(d), CaDirectory, StringComparison.Ordinal))
                .Select(Path.GetFileName)
                .OfType<string>()
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    private static X509Certificate2? ReadExisting(string certificateFile)
    {
        if (!File.Exists(certificateFile))
        {
            return null;
        }

        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        }
        catch (CryptographicException)
        {
            // Unreadable: issued again.
            return null;
        }
    }

    private static List<string> HostNamesOf(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(n => n.EnumerateDnsNames().Concat(n.EnumerateIPAddresses().Select(a => a.ToString())))
            .ToList();

    private static string? Problem(X509Certificate2 existing, string vmmId, FleetTrust trust)
    {
        if (VmmCertificateName.VmmIdOf(existing) != vmmId)
        {
            return $"it names {VmmCertificateName.VmmIdOf(existing) ?? "no VMM"}";
        }

        var check = trust.Check(existing, PeerRole.Server);
        return check.IsTrusted ? trust.Check(existing, PeerRole.Client).Problem : check.Problem;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex VmmIdPattern();
}
