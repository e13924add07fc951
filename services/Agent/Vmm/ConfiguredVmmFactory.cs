namespace Treecast.Agent.Vmm;

/// <summary>
/// The one place a VMM driver is chosen: creates, for each agent, the VMM of the registered <see cref="VmmDriver"/> its
/// <see cref="AgentOptions.Vmm"/> names, so agents of one process (the standalone host, tests) may run different drivers
/// side by side.
/// </summary>
public sealed class ConfiguredVmmFactory(IEnumerable<VmmDriver> drivers) : IVmmFactory
{
    private readonly IReadOnlyList<VmmDriver> _drivers = [.. drivers];

    /// <summary>The values <see cref="AgentOptions.Vmm"/> accepts (case-insensitive), in the order the drivers were registered.</summary>
    public IReadOnlyList<string> Drivers => [.. _drivers.Select(d => d.Name)];

    public IVmm Create(AgentOptions options, string workDirectory)
    {
        var driver = _drivers.FirstOrDefault(d => string.Equals(d.Name, options.Vmm, StringComparison.OrdinalIgnoreCase));

        // An unknown driver is an operator's typo: it fails the agent's start, with the setting and its values.
        return driver?.Create(options, workDirectory) ?? throw new InvalidOperationException(
            $"Agent {options.VmmId}: Agent:Vmm is '{options.Vmm}', which is not a VMM driver; set it to one of {string.Join(", ", Drivers.Select(d => $"'{d}'"))}.");
    }
}
