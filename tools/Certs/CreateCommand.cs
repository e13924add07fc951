using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Treecast.Security;

namespace Treecast.Certs;

/// <summary>
/// <c>create</c>: writes a fleet's CA and agents' certificates into a folder (<see cref="CertificateFolder"/>); running it
/// again keeps the CA and the valid certificates and adds the agents that are missing, so adding a host is the same
/// command, and <c>--renew</c> reissues.
/// </summary>
public static class CreateCommand
{
    public static Command Build()
    {
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "The folder to write: ca/ (unless --ca says otherwise) and one {vmmId}/ per agent with tls.crt, tls.key and ca.crt.",
            Required = true,
        };
        var vmms = new Option<string[]>("--vmm")
        {
            Description = "An agent's VMM id, optionally with its host names or IP addresses: host-01 or host-01=agent-1,10.0.0.5. Repeat for each agent; none means the agents already in the folder.",
            AllowMultipleArgumentsPerToken = false,
        };
        var hosts = new Option<string[]>("--host")
        {
            Description = "A host name or IP address added to every certificate this run issues (repeatable).",
        };
        var days = new Option<int>("--days")
        {
            Description = "How many days the agents' certificates issued now stay valid.",
            DefaultValueFactory = _ => 365,
        };
        var renew = new Option<bool>("--renew")
        {
            Description = "Reissue the named agents' certificates (all agents in the folder when none is named) even when still valid.",
        };
        var ca = new Option<DirectoryInfo?>("--ca")
        {
            Description = "Where the CA lives (ca.crt, ca.key), when not in {out}/ca: keep its key where the agents cannot read it.",
        };
        var alsoTrust = new Option<FileInfo[]>("--also-trust")
        {
            Description = "A PEM file of CA certificates every agent's ca.crt trusts as well (a CA rotation: the old or the new CA). The bundles are rewritten at every run.",
        };
        var command = new Command("create", "Creates the CA if there is none and a certificate for every agent that has none (or whose certificate no longer verifies).")
        {
            output, vmms, hosts, days, renew, ca, alsoTrust,
        };
        command.SetAction(result => Run(
            result.GetRequiredValue(output),
            result.GetValue(vmms) ?? [],
            result.GetValue(hosts) ?? [],
            result.GetValue(days),
            result.GetValue(renew),
            result.GetValue(ca),
            result.GetValue(alsoTrust) ?? []));
        return command;
    }

    private static int Run(DirectoryInfo output, string[] vmms, string[] hosts, int days, bool renew, DirectoryInfo? ca, FileInfo[] alsoTrust)
    {
        try
        {
            if (days is < 1 or > 3650)
            {
                throw new CertificateMaterialException($"--days {days} is out of range; give 1 to 3650, for example --days 365.");
            }

            var folder = new CertificateFolder(output.FullName, ca?.FullName);
            var agents = vmms.Select(v => Parse(v, hosts)).ToList();
            foreach (var line in folder.Create(agents, TimeSpan.FromDays(days), renew, alsoTrust.SelectMany(ReadAuthorities).ToList()))
            {
                Console.WriteLine(line);
            }

            return 0;
        }
        catch (Exception e) when (e is CertificateMaterialException or IOException or UnauthorizedAccessException or CryptographicException)
        {
            Console.Error.WriteLine($"treecast-certs: {e.Message}");
            return 1;
        }
    }

    /// <summary><c>host-01</c> or <c>host-01=agent-1,10.0.0.5</c>, with the names of <c>--host</c> added.</summary>
    private static AgentCertificateRequest Parse(string vmm, string[] hosts)
    {
        var parts = vmm.Split('=', 2);
        var names = parts.Length == 2 ? parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        if (parts.Length == 2 && names.Length == 0)
        {
            throw new CertificateMaterialException($"--vmm {vmm} names no host after '='; write --vmm {parts[0]} or --vmm {parts[0]}=agent-1.");
        }

        return new AgentCertificateRequest(parts[0].Trim(), [.. names, .. hosts]);
    }

    private static X509Certificate2Collection ReadAuthorities(FileInfo file)
    {
        var authorities = new X509Certificate2Collection();
        if (!file.Exists)
        {
            throw new CertificateMaterialException($"--also-trust {file.FullName} does not exist; give the PEM file of the other CA, for example ./old-certs/ca/ca.crt.");
        }

        authorities.ImportFromPemFile(file.FullName);
        if (authorities.Count == 0 || authorities.Any(a => !a.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority)))
        {
            throw new CertificateMaterialException($"--also-trust {file.FullName} must hold CA certificates only (PEM), such as another fleet's ca/ca.crt.");
        }

        return authorities;
    }
}
