namespace Treecast.Security;

/// <summary>What the peer is to us on a TLS connection, and so which extended key usage its certificate must carry.</summary>
public enum PeerRole
{
    /// <summary>A parent pushing to this agent: TLS client authentication.</summary>
    Client,

    /// <summary>A child this agent pushes to: TLS server authentication.</summary>
    Server,
}
