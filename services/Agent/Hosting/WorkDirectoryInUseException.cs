namespace Treecast.Agent.Hosting;

/// <summary>Another agent holds this agent's work directory (the same VMM id running twice on one machine).</summary>
public sealed class WorkDirectoryInUseException(string message, Exception innerException) : InvalidOperationException(message, innerException);
