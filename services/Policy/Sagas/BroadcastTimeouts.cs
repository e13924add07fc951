namespace Treecast.Policy.Sagas;

/// <summary>
/// How long each step of a broadcast operation may take before the operation fails. Bound from
/// <c>Policy:Timeouts</c> (environment: <c>Policy__Timeouts__Transfer=00:45:00</c>).
/// </summary>
public sealed class BroadcastTimeouts
{
    public const string Section = "Policy:Timeouts";

    public TimeSpan ResolveTree { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan Pause { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan Announce { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The whole chunked transfer down the tree, until every VMM has verified its copies.</summary>
    public TimeSpan Transfer { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan Resume { get; set; } = TimeSpan.FromSeconds(60);
}
