namespace Treecast.Policy.Sagas;

/// <summary>
/// How long each step of a broadcast operation may take before the operation ends <c>TimedOut</c>. Bound from
/// <c>Policy:Timeouts</c> (environment: <c>Policy__Timeouts__TransferProgress=00:05:00</c>).
/// </summary>
/// <remarks>
/// The transfer has no fixed limit: it fails when no receiver reported progress for <see cref="TransferProgress"/>, or
/// when it runs longer than its budget, <see cref="TransferPerGiB"/> per GiB of the manifest and never less than
/// <see cref="TransferMinimum"/> (KubeVirt's <c>progressTimeout</c> and <c>completionTimeoutPerGiB</c> are the anchors).
/// </remarks>
public sealed class BroadcastTimeouts
{
    public const string Section = "Policy:Timeouts";

    private const double BytesPerGiB = 1024d * 1024 * 1024;

    public TimeSpan ResolveTree { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan Pause { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan Announce { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest the transfer may go without a progress report from any receiver.</summary>
    public TimeSpan TransferProgress { get; set; } = TimeSpan.FromSeconds(150);

    /// <summary>The transfer's budget per GiB of the manifest.</summary>
    public TimeSpan TransferPerGiB { get; set; } = TimeSpan.FromSeconds(800);

    /// <summary>The smallest transfer budget, however small the manifest.</summary>
    public TimeSpan TransferMinimum { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan Resume { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a cancelled operation waits for the root to confirm its VMs run again.</summary>
    public TimeSpan Cancel { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The transfer's budget for <paramref name="bytes"/> (the manifest, or what receivers hold of an unsealed one).</summary>
    public TimeSpan TransferBudget(long bytes) =>
        TimeSpan.FromTicks(Math.Max(TransferMinimum.Ticks, (long)(TransferPerGiB.Ticks * (Math.Max(bytes, 0) / BytesPerGiB))));
}
