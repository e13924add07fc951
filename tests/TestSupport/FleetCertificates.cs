using System.Collections.Concurrent;
using Treecast.Security;

namespace Treecast.TestSupport;

/// <summary>
/// A fleet CA in memory for tests that start agents in their own process: each VMM's credentials are issued once, on
/// first use, for loopback. Agents of one instance trust each other and nothing else.
/// </summary>
public sealed class FleetCertificates
{
    private readonly ConcurrentDictionary<string, AgentCredentials> _issued = new();

    public FleetCertificateAuthority Authority { get; } = FleetCertificateAuthority.Create("Treecast test fleet CA", TimeSpan.FromDays(1));

    public AgentCredentials For(string vmmId) => _issued.GetOrAdd(vmmId, id => Authority.IssueCredentials(id, ["127.0.0.1", "localhost"]));
}
