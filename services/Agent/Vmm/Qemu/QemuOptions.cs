namespace Treecast.Agent.Vmm.Qemu;

/// <summary>How a <see cref="QemuVmm"/> runs QEMU and defines the VMs it creates; bound from <c>Agent:Qemu</c>.</summary>
public sealed class QemuOptions
{
    public const string Section = "Qemu";

    /// <summary>The QEMU system emulator: a file name looked up on PATH, or a path.</summary>
    public string Binary { get; set; } = "qemu-system-x86_64";

    /// <summary>Guest RAM of each VM the VMM creates; the migration stream grows with the RAM the guest touched.</summary>
    public int MemoryMiB { get; set; } = 16;

    /// <summary>QEMU machine type; an alias such as <c>pc</c> is resolved to its versioned name so receivers load the same machine.</summary>
    public string MachineType { get; set; } = "pc";

    /// <summary>Guest disk image booted from a read-only floppy; null finds the counter guest (<see cref="CounterWorkload.FindImage"/>).</summary>
    public string? BootImage { get; set; }

    /// <summary>The <c>-accel</c> value: <c>tcg</c> (software emulation) works everywhere; <c>kvm</c> where /dev/kvm exists.</summary>
    public string Accelerator { get; set; } = "tcg";

    /// <summary>How often the VMM reads the guest counter of every running VM for workload progress.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a QEMU may take to open its monitor and to boot the guest.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long saving or loading one VM's state may take before the operation fails.</summary>
    public TimeSpan MigrationTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The options with <c>TREECAST_QEMU_BINARY</c>, <c>TREECAST_QEMU_MEMORY_MIB</c>, <c>TREECAST_QEMU_MACHINE</c>,
    /// <c>TREECAST_QEMU_ACCEL</c> and <c>TREECAST_GUEST_IMAGE</c> applied over these, for runs without configuration files.
    /// </summary>
    public QemuOptions WithEnvironment()
    {
        var memory = Environment.GetEnvironmentVariable("TREECAST_QEMU_MEMORY_MIB");
        return new QemuOptions
        {
            Binary = Environment.GetEnvironmentVariable("TREECAST_QEMU_BINARY") is { Length: > 0 } binary ? binary : Binary,
            MemoryMiB = int.TryParse(memory, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var mib) && mib > 0 ? mib : MemoryMiB,
            MachineType = Environment.GetEnvironmentVariable("TREECAST_QEMU_MACHINE") is { Length: > 0 } machine ? machine : MachineType,
            Accelerator = Environment.GetEnvironmentVariable("TREECAST_QEMU_ACCEL") is { Length: > 0 } accel ? accel : Accelerator,
            BootImage = Environment.GetEnvironmentVariable("TREECAST_GUEST_IMAGE") is { Length: > 0 } image ? image : BootImage,
            PollInterval = PollInterval,
            StartTimeout = StartTimeout,
            MigrationTimeout = MigrationTimeout,
        };
    }
}
