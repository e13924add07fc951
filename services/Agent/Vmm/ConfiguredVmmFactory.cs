using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Agent.Vmm;

/// <summary>
/// Creates the VMM driver each agent's <see cref="AgentOptions.Vmm"/> names, so agents of one process (the standalone
/// host, tests) may run different drivers side by side.
/// </summary>
public sealed class ConfiguredVmmFactory(SimulatedVmmFactory simulated, QemuVmmFactory qemu) : IVmmFactory
{
    public const string Simulated = "simulated";

    /// <summary>The values <see cref="AgentOptions.Vmm"/> accepts (case-insensitive).</summary>
    public static IReadOnlyList<string> Drivers { get; } = [Simulated, QemuVmm.Kind];

    public IVmm Create(AgentOptions options, string workDirectory)
    {
        if (string.Equals(options.Vmm, Simulated, StringComparison.OrdinalIgnoreCase))
        {
            return simulated.Create(options, workDirectory);
        }

        if (string.Equals(options.Vmm, QemuVmm.Kind, StringComparison.OrdinalIgnoreCase))
        {
            return qemu.Create(options, workDirectory);
        }

        // An unknown driver is an operator's typo: it fails the agent's start, with the setting and its values.
        throw new InvalidOperationException(
            $"Agent {options.VmmId}: Agent:Vmm is '{options.Vmm}', which is not a VMM driver; set it to one of {string.Join(", ", Drivers.Select(d => $"'{d}'"))}.");
    }
}
