namespace Treecast.Agent.Vmm;

/// <summary>Creates the VMM driver an agent's options name.</summary>
public interface IVmmFactory
{
    IVmm Create(AgentOptions options, string workDirectory);
}
