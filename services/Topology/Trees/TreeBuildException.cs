namespace Treecast.Topology.Trees;

/// <summary>A tree request that cannot be met as asked (unknown or lost root, bad fan-out); the message says how to fix it.</summary>
public sealed class TreeBuildException(string message) : Exception(message);
