using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security;

/// <summary>
/// A fleet's certificate authority (ECDSA P-256): issues one certificate per agent, naming its VMM id, good for TLS
/// server and client authentication. Made in memory (the standalone host, tests) or read from its PEM files.
/// </summary>
public sealed class FleetCertificateAuthority
{
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(10 * 365);
    public static readonly TimeSpan DefaultAgentValidity = TimeSpan.FromDays(365);

    // Clocks of a fleet disagree a little: a certificate issued now must not be "not yet valid" on a peer.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private FleetCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>A trust holding this CA only.</summary>
    public FleetTrust Trust => new([Certificate]);

    public static FleetCertificateAuthority Create(string name = "Treecast fleet CA", TimeSpan? validity = null, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new FleetCertificateAuthority(request.CreateSelfSigned(now - ClockSkew, now + (validity ?? DefaultValidity)));
    }

    /// <summary>Reads the CA's PEM certificate and private key.</summary>
    public static FleetCertificateAuthority Load(string certificateFile, string keyFile)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new CertificateMaterialException($"CA {certificateFile} with key {keyFile} cannot be read: {e.Message}");
        }

        if (!certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
        {
            throw new CertificateMaterialException($"{certificateFile} is not a CA certificate.");
        }

        return new FleetCertificateAuthority(certificate);
    }

    /// <summary>
    /// Issues an agent's certificate (with its new private key): CN and the URI <c>urn:treecast:vmm:{vmmId}</c> name
    /// the VMM; <paramref name="hostNames"/> (names or IP addresses) become DNS or IP names. It never outlives the CA.
    /// </summary>
    public X509Certificate2 Issue(string vmmId, IEnumerable<string>? hostNames = null, TimeSpan? validity = null, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vmmId);
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={vmmId}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(VmmCertificateName.UriOf(vmmId));
        foreach (var host in hostNames ?? [])
        {
            if (IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        var notBefore = Max(now - ClockSkew, Certificate.NotBefore.ToUniversalTime());
        var notAfter = Min(now + (validity ?? DefaultAgentValidity), Certificate.NotAfter.ToUniversalTime());

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(Certificate, notBefore, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>An agent's credentials issued in memory: its certificate and a trust holding this CA.</summary>
    public AgentCredentials IssueCredentials(string vmmId, IEnumerable<string>? hostNames = null) =>
        new(Issue(vmmId, hostNames), Trust);
}
