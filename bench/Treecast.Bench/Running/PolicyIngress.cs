namespace Treecast.Bench.Running;

/// <summary>Where the policy service takes external events on RabbitMQ (the contract in the README).</summary>
public static class PolicyIngress
{
    public const string Exchange = "treecast.external-events";

    /// <summary>The policy service's queue bound to <see cref="Exchange"/>: once it exists, a published event is consumed.</summary>
    public const string Queue = "policy-external-events";
}
