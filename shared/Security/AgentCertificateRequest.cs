namespace Treecast.Security;

/// <summary>An agent to issue a certificate for: its VMM id and the host names or IP addresses it is reached by (may be none).</summary>
public sealed record AgentCertificateRequest(string VmmId, IReadOnlyList<string> HostNames);
