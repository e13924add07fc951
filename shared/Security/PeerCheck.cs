namespace Treecast.Security;

/// <summary>The outcome of checking a peer's certificate: the VMM id it names when trusted, else why it is not.</summary>
public sealed record PeerCheck(string? VmmId, string? Problem)
{
    public bool IsTrusted => VmmId is not null;

    public static PeerCheck Trusted(string vmmId) => new(vmmId, null);

    public static PeerCheck Refused(string problem) => new(null, problem);
}
