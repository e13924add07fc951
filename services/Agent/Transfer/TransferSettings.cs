namespace Treecast.Agent.Transfer;

/// <summary>How one agent's transfer engine receives and forwards; from <see cref="AgentOptions"/> (tests shorten the waits).</summary>
public sealed record TransferSettings
{
    /// <summary>The most this agent receives for an image announced without a size before refusing the stream as a runaway.</summary>
    public long MaxUnsealedImageBytes { get; init; } = TransferLimits.DefaultMaxUnsealedImageBytes;

    /// <summary>Waits between a forwarder's attempts after a broken stream.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; init; } = ChunkForwarder.DefaultRetryDelays;

    /// <summary>How long a forwarder keeps retrying a child it cannot reach before it reports the relay failed.</summary>
    public TimeSpan ChildGracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a receiver whose parent's stream broke waits for a parent's stream before it reports the parent unreachable.</summary>
    public TimeSpan ParentGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A receive found at start with no activity for this long is deleted instead of resumed.</summary>
    public TimeSpan AbandonedReceiveAfter { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The most bytes per second this agent sends to all its children together; 0 for no limit.</summary>
    public long MaxSendBytesPerSecond { get; init; }

    public static TransferSettings From(AgentOptions options) => new()
    {
        MaxSendBytesPerSecond = (long)(options.MaxSendMiBPerSecond * 1024 * 1024),
        AbandonedReceiveAfter = options.AbandonedReceiveAfter,
        MaxUnsealedImageBytes = options.MaxStreamedImageMiB * 1024 * 1024,
        ChildGracePeriod = options.ChildGracePeriod,
        ParentGracePeriod = options.ParentGracePeriod,
    };
}
