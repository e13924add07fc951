namespace Treecast.Cli;

/// <summary>A command that cannot do its work: the message is the one line the user sees, the exit code says what kind.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
