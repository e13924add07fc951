using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security;

/// <summary>
/// The certificate authorities a fleet trusts (more than one while an operator rotates the CA: old and new together),
/// and the check every peer certificate passes: it chains to one of them and to nothing else (not the OS store, no
/// revocation lookups, no downloads), carries the usage its role needs, and names a VMM.
/// </summary>
public sealed class FleetTrust
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private readonly X509Certificate2Collection _authorities;

    public FleetTrust(IEnumerable<X509Certificate2> authorities)
    {
        // Public parts only: a trust never needs a CA's key.
        _authorities = [.. authorities.Select(a => X509CertificateLoader.LoadCertificate(a.RawData))];
        if (_authorities.Count == 0)
        {
            throw new ArgumentException("A fleet trust needs at least one CA certificate.", nameof(authorities));
        }
    }

    public IReadOnlyList<X509Certificate2> Authorities => [.. _authorities];

    /// <summary>Reads a CA bundle: one or more PEM certificates in one file.</summary>
    public static FleetTrust Load(string caBundleFile)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caBundleFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CertificateMaterialException($"CA bundle {caBundleFile} cannot be read: {e.Message}");
        }

        if (authorities.Count == 0)
        {
            throw new CertificateMaterialException($"CA bundle {caBundleFile} holds no PEM certificate.");
        }

        return new FleetTrust(authorities);
    }

    /// <summary>Checks a peer's certificate as <paramref name="role"/> and returns the VMM id it names, or why it is refused.</summary>
    public PeerCheck Check(X509Certificate2? peer, PeerRole role)
    {
        if (peer is null)
        {
            return PeerCheck.Refused("no certificate was presented");
        }

        if (peer.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
        {
            return PeerCheck.Refused($"certificate '{peer.Subject}' is a CA certificate, not an agent's");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(role == PeerRole.Client ? ClientAuthentication : ServerAuthentication);
        if (!chain.Build(peer))
        {
            var problems = chain.ChainStatus.Select(s => Describe(s.Status, role)).Distinct();
            return PeerCheck.Refused($"certificate '{peer.Subject}' is refused: {string.Join("; ", problems)}");
        }

        return VmmCertificateName.VmmIdOf(peer) is { } vmmId
            ? PeerCheck.Trusted(vmmId)
            : PeerCheck.Refused($"certificate '{peer.Subject}' names no VMM (no {VmmCertificateName.UriPrefix} URI)");
    }

    private static string Describe(X509ChainStatusFlags status, PeerRole role) => status switch
    {
        X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain => "not issued by a CA of the fleet's CA bundle",
        X509ChainStatusFlags.NotTimeValid => "expired or not yet valid",
        X509ChainStatusFlags.NotValidForUsage or X509ChainStatusFlags.InvalidExtension =>
            $"not valid for TLS {(role == PeerRole.Client ? "client" : "server")} authentication",
        X509ChainStatusFlags.NotSignatureValid => "its signature does not verify",
        _ => status.ToString(),
    };
}
