namespace Treecast.Agent.Vmm.Qemu;

/// <summary>A VM that QEMU could not start, save, load or keep alive; the message names the VM and the reason.</summary>
public sealed class QemuVmException(string vmId, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public string VmId { get; } = vmId;
}
