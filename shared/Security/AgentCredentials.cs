using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security;

/// <summary>
/// What one agent needs for mutual TLS: its own certificate with its private key (naming its VMM id) and the fleet's
/// trusted CAs, against which it checks every peer.
/// </summary>
public sealed class AgentCredentials
{
    public AgentCredentials(X509Certificate2 certificate, FleetTrust trust)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"Certificate '{certificate.Subject}' comes without its private key.", nameof(certificate));
        }

        // SslStream on Windows cannot use a key that lives only in memory (as one read from PEM does); elsewhere it can.
        Certificate = OperatingSystem.IsWindows()
            ? X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)
            : certificate;
        Trust = trust;
        VmmId = VmmCertificateName.VmmIdOf(certificate)
            ?? throw new ArgumentException($"Certificate '{certificate.Subject}' names no VMM.", nameof(certificate));
    }

    /// <summary>This agent's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The VMM id the certificate names.</summary>
    public string VmmId { get; }

    public FleetTrust Trust { get; }

    /// <summary>
    /// Reads PEM files: the agent's certificate, its private key (PKCS#8, unencrypted) and the CA bundle; refuses a
    /// certificate that names no VMM or that the bundle does not trust, naming the file.
    /// </summary>
    public static AgentCredentials Load(string certificateFile, string keyFile, string caBundleFile)
    {
        foreach (var file in new[] { certificateFile, keyFile, caBundleFile })
        {
            if (!File.Exists(file))
            {
                throw new CertificateMaterialException($"{file} does not exist.");
            }
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new CertificateMaterialException($"{certificateFile} with key {keyFile} cannot be read: {e.Message}");
        }

        var trust = FleetTrust.Load(caBundleFile);
        if (VmmCertificateName.VmmIdOf(certificate) is null)
        {
            throw new CertificateMaterialException($"{certificateFile} names no VMM (no {VmmCertificateName.UriPrefix} URI); issue it with Treecast.Certs.");
        }

        foreach (var role in new[] { PeerRole.Server, PeerRole.Client })
        {
            if (trust.Check(certificate, role) is { IsTrusted: false, Problem: var problem })
            {
                throw new CertificateMaterialException($"{certificateFile} is not trusted by {caBundleFile}: {problem}.");
            }
        }

        return new AgentCredentials(certificate, trust);
    }
}
