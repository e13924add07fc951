namespace Treecast.Agent.Vmm.Qemu;

/// <summary>A QMP command that failed: QEMU answered with an error, or the monitor connection closed first.</summary>
public sealed class QmpException : Exception
{
    public QmpException(string vmId, string command, string? errorClass, string description, Exception? innerException = null)
        : base(
            errorClass is null
                ? $"QMP command '{command}' on vm {vmId} failed: {description}"
                : $"QMP command '{command}' on vm {vmId} failed: {errorClass}: {description}",
            innerException)
    {
        VmId = vmId;
        Command = command;
        ErrorClass = errorClass;
        Description = description;
    }

    public string VmId { get; }

    public string Command { get; }

    /// <summary>QEMU's error class (<c>GenericError</c>, <c>CommandNotFound</c>, …); null when the connection failed.</summary>
    public string? ErrorClass { get; }

    public string Description { get; }
}
