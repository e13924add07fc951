namespace Treecast.Agent;

/// <summary>An agent's settings cannot work: the message is one line naming the setting and a value that would.</summary>
public sealed class InvalidAgentOptionsException(string message) : InvalidOperationException(message);
