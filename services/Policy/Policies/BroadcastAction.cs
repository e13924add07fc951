namespace Treecast.Policy.Policies;

/// <summary>Run a broadcast operation rooted at the event's VMM: its VMs end paused on every VMM of the tree.</summary>
public sealed record BroadcastAction(int FanOut, int ChunkSizeKiB, int Stripes = 0) : PolicyAction(FanOut, ChunkSizeKiB, Stripes);
