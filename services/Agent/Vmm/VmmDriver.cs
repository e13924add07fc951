namespace Treecast.Agent.Vmm;

/// <summary>
/// A VMM driver, registered under the name an agent's <see cref="AgentOptions.Vmm"/> gives it
/// (<see cref="AgentServiceExtensions.AddVmmDriver{TDriver}"/>); <see cref="ConfiguredVmmFactory"/> chooses among them.
/// </summary>
/// <param name="name">The driver's name in <c>Agent:Vmm</c>, matched case-insensitively.</param>
/// <param name="vmmKind">What its VMMs are, for messages (<c>simulated</c>, <c>QEMU</c>).</param>
public abstract class VmmDriver(string name, string vmmKind) : IVmmFactory
{
    public string Name => name;

    /// <summary>The VMM of an agent that names this driver; refuses, naming the setting, an agent that names another.</summary>
    public IVmm Create(AgentOptions options, string workDirectory)
    {
        if (!string.Equals(options.Vmm, name, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Agent {options.VmmId}: this factory creates {vmmKind} VMMs, not '{options.Vmm}'; set Agent:Vmm to '{name}' or use the factory of that driver.");
        }

        return CreateVmm(options, workDirectory);
    }

    protected abstract IVmm CreateVmm(AgentOptions options, string workDirectory);
}
