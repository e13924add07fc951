namespace Treecast.Policy;

/// <summary>Bound from the <c>Policy</c> configuration section (environment: <c>Policy__PoliciesPath</c>).</summary>
public sealed class PolicyOptions
{
    public const string Section = "Policy";

    /// <summary>
    /// A policy file, or a directory whose <c>*.yaml</c>/<c>*.yml</c> files are all loaded. Unset: the
    /// <c>policies</c> directory next to the service's binaries, which holds infra/policies/default.yaml.
    /// </summary>
    public string? PoliciesPath { get; set; }

    /// <summary>Reload when the files change (an editor's save is several events: they are collected for <see cref="ReloadDebounce"/>).</summary>
    public bool WatchForChanges { get; set; } = true;

    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Events that match no policy are counted, not logged one by one: one line per interval says how many
    /// (environment: <c>Policy__UnmatchedSummaryInterval=00:01:00</c>).
    /// </summary>
    public TimeSpan UnmatchedSummaryInterval { get; set; } = TimeSpan.FromMinutes(1);

    public string ResolvedPoliciesPath => string.IsNullOrWhiteSpace(PoliciesPath)
        ? Path.Combine(AppContext.BaseDirectory, "policies")
        : Path.GetFullPath(PoliciesPath);
}
