using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>What the VMs of one <see cref="QemuVmm"/> share: its id, options, files, migrations, clock and logger.</summary>
/// <param name="stopping">Cancelled when the VMM is disposed.</param>
internal sealed class QemuRuntime(string vmmId, QemuOptions options, QemuFiles files, TimeProvider timeProvider, ILogger logger, CancellationToken stopping)
{
    public string VmmId => vmmId;

    public QemuOptions Options => options;

    public QemuFiles Files => files;

    public QemuMigration Migration { get; } = new(vmmId, options.MigrationTimeout);

    public TimeProvider TimeProvider => timeProvider;

    public ILogger Logger => logger;

    /// <summary>Cancelled when the VMM is disposed: the only thing besides its timeout that ends a save.</summary>
    public CancellationToken Stopping => stopping;

    /// <summary>Refuses a definition this VMM cannot run, naming the VM and what to fix.</summary>
    public void Validate(string vmId, VmDefinition definition)
    {
        if (!string.Equals(definition.Kind, QemuVmm.Kind, StringComparison.OrdinalIgnoreCase))
        {
            throw new QemuVmException(vmId, $"VM {vmId} on {vmmId} is defined for a '{definition.Kind}' VMM; this VMM runs QEMU (kind '{QemuVmm.Kind}').");
        }

        if (definition.BootImage is { } bootImage && !File.Exists(bootImage))
        {
            throw new QemuVmException(
                vmId,
                $"VM {vmId} on {vmmId} cannot start: its boot image {bootImage} does not exist on this host; build it with infra/guest/build.sh or set Agent:Qemu:BootImage.");
        }

        if (definition.BootImage is null)
        {
            throw new QemuVmException(
                vmId,
                $"VM {vmId} on {vmmId} cannot start: it has no boot image and infra/guest/counter.img was not found; build it with infra/guest/build.sh or set Agent:Qemu:BootImage.");
        }
    }

    /// <summary>Starts a QEMU for VM <paramref name="vmId"/> with its monitor connected (<see cref="QemuProcess.StartAsync"/>).</summary>
    public Task<QemuProcess> StartProcessAsync(string vmId, VmDefinition definition, bool incoming, CancellationToken cancellationToken) =>
        QemuProcess.StartAsync(
            vmmId, vmId, options.Binary, options.Accelerator, definition, incoming, files.NextSocketPath("qmp"), options.StartTimeout, logger, cancellationToken);
}
