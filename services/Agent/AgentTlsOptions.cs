using Treecast.Security;

namespace Treecast.Agent;

/// <summary>
/// Mutual TLS between agents (<c>Agent:Tls</c>, environment <c>Agent__Tls__…</c>). By default an agent serves and pushes
/// only over TLS with the fleet's certificates: its own (naming its VMM id) and the fleet's CA bundle, made by
/// <c>dotnet run --project tools/Certs -- create --out ./certs --vmm {vmmId}</c>. Without certificates and without
/// <see cref="AllowPlaintext"/> the agent refuses to start.
/// </summary>
public sealed class AgentTlsOptions
{
    public const string CertificateFileName = CertificateFolder.CertificateFileName;
    public const string KeyFileName = CertificateFolder.KeyFileName;
    public const string CaBundleFileName = CertificateFolder.CaBundleFileName;

    /// <summary>
    /// A directory holding this agent's <c>tls.crt</c> (PEM certificate), <c>tls.key</c> (PEM PKCS#8 private key) and
    /// <c>ca.crt</c> (PEM bundle of the CAs the fleet trusts, old and new during a rotation): what the certs command
    /// writes per agent, or a Kubernetes TLS secret with <c>ca.crt</c>.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The agent's certificate, when not <c>{Directory}/tls.crt</c>.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The certificate's private key, when not <c>{Directory}/tls.key</c>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The CA bundle, when not <c>{Directory}/ca.crt</c>.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// Serves and pushes gRPC in cleartext, admitting a push on the announced token and the tree alone: anyone who read
    /// the token off the bus and can reach the agent's port can push. Only for a test fleet; logged loudly at start.
    /// </summary>
    public bool AllowPlaintext { get; set; }

    /// <summary>
    /// Credentials made in code instead of read from files: the standalone host and tests issue them from a CA in
    /// memory. Not a configuration setting.
    /// </summary>
    public AgentCredentials? Credentials { get; set; }

    private bool HasFiles =>
        !string.IsNullOrWhiteSpace(Directory) || !string.IsNullOrWhiteSpace(CertificateFile) || !string.IsNullOrWhiteSpace(KeyFile) || !string.IsNullOrWhiteSpace(CaFile);

    /// <summary>
    /// The agent's credentials for mutual TLS (read from the files, checked to name <paramref name="vmmId"/> and to be
    /// trusted by the bundle), or null with <see cref="AllowPlaintext"/>. Throws <see cref="InvalidAgentOptionsException"/>
    /// with one line naming the setting and the fix.
    /// </summary>
    public AgentCredentials? Resolve(string vmmId)
    {
        if (AllowPlaintext)
        {
            return null;
        }

        if (Credentials is null && !HasFiles)
        {
            throw new InvalidAgentOptionsException(
                $"Agent {vmmId} has no TLS certificate: set Agent:Tls:Directory (Agent__Tls__Directory) to a folder holding {CertificateFileName}, {KeyFileName} and {CaBundleFileName}, "
                + $"made by 'dotnet run --project tools/Certs -- create --out ./certs --vmm {vmmId}' (then Agent__Tls__Directory=./certs/{vmmId}), "
                + "or set Agent:Tls:AllowPlaintext=true (Agent__Tls__AllowPlaintext=true) for an insecure test fleet.");
        }

        Credentials ??= Load(vmmId);
        if (Credentials.VmmId != vmmId)
        {
            throw new InvalidAgentOptionsException(
                $"Agent {vmmId}: its TLS certificate names VMM {Credentials.VmmId}; give it the certificate issued for {vmmId} (Agent:Tls:Directory), or correct Agent:VmmId.");
        }

        return Credentials;
    }

    private AgentCredentials Load(string vmmId)
    {
        string File(string? file, string name, string setting) =>
            !string.IsNullOrWhiteSpace(file) ? file
            : !string.IsNullOrWhiteSpace(Directory) ? Path.Combine(Directory, name)
            : throw new InvalidAgentOptionsException($"Agent {vmmId}: Agent:Tls:{setting} is not set and neither is Agent:Tls:Directory; set Agent:Tls:Directory to the agent's folder made by tools/Certs.");

        try
        {
            return AgentCredentials.Load(
                File(CertificateFile, CertificateFileName, nameof(CertificateFile)),
                File(KeyFile, KeyFileName, nameof(KeyFile)),
                File(CaFile, CaBundleFileName, nameof(CaFile)));
        }
        catch (CertificateMaterialException e)
        {
            throw new InvalidAgentOptionsException(
                $"Agent {vmmId}: Agent:Tls: {e.Message.TrimEnd('.')}; create the agent's certificates with 'dotnet run --project tools/Certs -- create --out ./certs --vmm {vmmId}'.");
        }
    }
}
