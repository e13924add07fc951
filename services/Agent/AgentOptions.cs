namespace Treecast.Agent;

/// <summary>One hosted agent (one host, one VMM); bound from the <c>Agent</c> section, or built by the standalone host.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    public string VmmId { get; set; } = $"vmm-{Environment.MachineName.ToLowerInvariant()}";

    /// <summary>Network location, most general first: <c>site/pod/rack</c>.</summary>
    public string Location { get; set; } = "site-1/pod-1/rack-1";

    /// <summary>Port of the agent's gRPC transfer server; 0 picks a free one.</summary>
    public int GrpcPort { get; set; }

    /// <summary>
    /// Host name or address other agents use to reach this one: heartbeats advertise <c>https://{AdvertisedHost}:{port}</c>
    /// (<c>http://</c> with <see cref="AgentTlsOptions.AllowPlaintext"/>). Peers check the certificate's VMM id, not this
    /// name, so it may be an IP address.
    /// </summary>
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    /// <summary>Address the gRPC server listens on; <c>0.0.0.0</c> in containers.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// Where VM images, receives and spools live, kept across restarts (a restarted agent resumes its receives from it);
    /// empty means <c>{temp}/treecast-agent/{VmmId}</c>. Held exclusively while the agent runs.
    /// </summary>
    public string? WorkDirectory { get; set; }

    /// <summary>
    /// The name of a registered VMM driver (<see cref="AgentServiceExtensions.AddVmmDriver{TDriver}"/>), case-insensitive:
    /// <c>simulated</c> (deterministic images on disk) or <c>qemu</c> (QEMU through QMP, configured by the <c>Agent:Qemu</c>
    /// section, <see cref="Treecast.Agent.Vmm.Qemu.QemuOptions"/>). Any other value fails the agent's start.
    /// </summary>
    public string Vmm { get; set; } = "simulated";

    /// <summary>VMs the VMM starts with (running); 0 for a host that only receives copies.</summary>
    public int VmCount { get; set; } = 2;

    /// <summary>Size of each simulated VM image; a QEMU VM's image is its saved state, sized by the guest (see <c>Agent:Qemu:MemoryMiB</c>).</summary>
    public int ImageMiB { get; set; } = 64;

    /// <summary>
    /// The most this agent receives for one VM image announced without a size (a QEMU migration stream still being
    /// written at the root) before refusing the stream as a runaway.
    /// </summary>
    public long MaxStreamedImageMiB { get; set; } = Transfer.TransferLimits.DefaultMaxUnsealedImageBytes / (1024 * 1024);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most MiB per second this agent sends down the tree, to all its children together (its uplink's share for
    /// Treecast); 0, the default, for no limit. Fractions are allowed (0.5).
    /// </summary>
    public double MaxSendMiBPerSecond { get; set; }

    /// <summary>
    /// How long a parent keeps retrying a child it cannot reach (with backoff) before it reports the relay to that child
    /// failed (<c>OperationStepFailed</c>, step <c>Relay</c>): a restarted child comes back within it.
    /// </summary>
    public TimeSpan ChildGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a receiver whose parent's stream broke waits for a parent to push again before it reports the parent
    /// unreachable (<c>ParentUnreachable</c>), so the operation can give it another parent.
    /// </summary>
    public TimeSpan ParentGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A receive the agent finds at start with no activity for this long is deleted instead of resumed.</summary>
    public TimeSpan AbandonedReceiveAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The port heartbeats advertise, when other agents reach this one through a port other than the one it binds (NAT, a
    /// proxy); 0 advertises the bound port.
    /// </summary>
    public int AdvertisedPort { get; set; }

    /// <summary>Mutual TLS on the agents' data path: the certificate files, or the insecure cleartext opt-out.</summary>
    public AgentTlsOptions Tls { get; set; } = new();

    /// <summary>On RabbitMQ, how long the agent's queue outlives the agent (<c>x-expires</c>): a VMM gone that long leaves no queue behind.</summary>
    public TimeSpan QueueExpiresAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// On RabbitMQ, the broker user whose commands this agent carries out (PauseVms, ResumeVms, StartWorkload, …): a
    /// command's AMQP <c>user_id</c>, which the broker checks against the sender's login, must name it. The policy
    /// service's account by default; a process that hosts the policy service and its agents together uses its own.
    /// </summary>
    public string CommandSender { get; set; } = "treecast-policy";

    /// <summary>Throws, naming the setting and a valid value, when an option cannot work.</summary>
    public void Validate()
    {
        static void Positive(TimeSpan value, string setting, string example)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new InvalidAgentOptionsException($"Agent:{setting} is {value}; it must be positive, for example {example}.");
            }
        }

        if (string.IsNullOrWhiteSpace(VmmId))
        {
            throw new InvalidAgentOptionsException("Agent:VmmId is empty; give every agent an id of its own, for example host-01.");
        }

        if (string.IsNullOrWhiteSpace(CommandSender))
        {
            throw new InvalidOperationException("Agent:CommandSender is empty; name the broker user of the policy service, for example treecast-policy.");
        }

        Positive(HeartbeatInterval, nameof(HeartbeatInterval), "00:00:02");
        Positive(ChildGracePeriod, nameof(ChildGracePeriod), "00:00:30");
        Positive(ParentGracePeriod, nameof(ParentGracePeriod), "00:00:10");
        Positive(QueueExpiresAfter, nameof(QueueExpiresAfter), "01:00:00");
        Positive(AbandonedReceiveAfter, nameof(AbandonedReceiveAfter), "01:00:00");
        if (!double.IsFinite(MaxSendMiBPerSecond) || MaxSendMiBPerSecond < 0)
        {
            throw new InvalidAgentOptionsException(
                $"Agent:MaxSendMiBPerSecond is {MaxSendMiBPerSecond}; it must be 0 (no limit) or a positive number of MiB per second, for example 100.");
        }

        if (AdvertisedPort is < 0 or > 65535 || GrpcPort is < 0 or > 65535)
        {
            throw new InvalidAgentOptionsException($"Agent:GrpcPort is {GrpcPort} and Agent:AdvertisedPort {AdvertisedPort}; each must be 0 (chosen) or a port from 1 to 65535.");
        }

        if (string.IsNullOrWhiteSpace(WorkDirectory) && VmmId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new InvalidAgentOptionsException(
                $"Agent:VmmId '{VmmId}' cannot name the default work directory; use letters, digits and '-', or set Agent:WorkDirectory.");
        }
    }
}
