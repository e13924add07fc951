using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security;

/// <summary>Writes certificates and keys as PEM; key files readable by their owner only (mode 0600) from their first byte.</summary>
public static class PemFiles
{
    public static void WriteCertificates(string path, IEnumerable<X509Certificate2> certificates) =>
        WriteAtomically(path, string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")), secret: false);

    public static void WritePrivateKey(string path, X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = certificate.GetECDsaPrivateKey() as AsymmetricAlgorithm
            ?? certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException($"Certificate '{certificate.Subject}' has no ECDSA or RSA private key.", nameof(certificate));
        WriteAtomically(path, key.ExportPkcs8PrivateKeyPem() + "\n", secret: true);
    }

    /// <summary>Writes to a temporary file beside <paramref name="path"/> and renames it, so a reader never sees half a file.</summary>
    private static void WriteAtomically(string path, string content, bool secret)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        File.Delete(temporary);
        using (var writer = new StreamWriter(new FileStream(temporary, options)))
        {
            writer.Write(content);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
