using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>What became of one step of a receive (an admission, a chunk, an end marker).</summary>
public enum ReceiveVerdict
{
    /// <summary>Done as asked (stored, verified, or already held).</summary>
    Done,

    /// <summary>The sender may not push this operation here (not announced, not the parent, wrong token).</summary>
    Refused,

    /// <summary>The receive has failed for good (before this frame, or while adopting the copies).</summary>
    Failed,

    /// <summary>The frame names something the manifest does not hold.</summary>
    Malformed,

    /// <summary>A chunk starts past what this agent holds: the sender resumes from the committed offset.</summary>
    Ahead,

    /// <summary>The bytes are wrong for good (an image that does not match its digest, a runaway stream): the receive failed.</summary>
    Lost,

    /// <summary>A chunk was garbled on its way (its checksum does not match): refused, the receive goes on; the sender resends it.</summary>
    Garbled,
}

/// <summary>The outcome of one step of a receive; <see cref="Reason"/> says why when it is not <see cref="ReceiveVerdict.Done"/>.</summary>
/// <param name="Verified">For an end marker that completed a VM: the verified image (its size and SHA-256).</param>
public readonly record struct ReceiveOutcome(ReceiveVerdict Verdict, string? Reason = null, VmImage? Verified = null)
{
    public static ReceiveOutcome Done { get; } = new(ReceiveVerdict.Done);

    public bool IsDone => Verdict == ReceiveVerdict.Done;
}
