namespace Treecast.Policy.Policies;

/// <summary>
/// Watch the event's workload: if it has not completed within <see cref="Deadline"/>, duplicate the root's
/// VMs onto every other VMM and run them there.
/// </summary>
public sealed record DuplicateIfNotCompletedWithinAction(TimeSpan Deadline, int FanOut, int ChunkSizeKiB, int Stripes = 0)
    : PolicyAction(FanOut, ChunkSizeKiB, Stripes);
