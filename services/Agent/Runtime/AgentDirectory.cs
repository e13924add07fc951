namespace Treecast.Agent.Runtime;

/// <summary>The agents hosted in this process (one in a service container, fifteen in the standalone host).</summary>
public sealed class AgentDirectory(IReadOnlyList<AgentRuntime> runtimes)
{
    public IReadOnlyList<AgentRuntime> Runtimes { get; } = runtimes;

    public AgentRuntime this[string vmmId] =>
        Runtimes.FirstOrDefault(r => r.VmmId == vmmId)
        ?? throw new KeyNotFoundException($"No agent for VMM {vmmId} in this process; hosted: {string.Join(", ", Runtimes.Select(r => r.VmmId))}.");
}
