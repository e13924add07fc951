namespace Treecast.Cli;

/// <summary>What <c>treecast</c> exits with (README, "The treecast command"); scripts may rely on these.</summary>
public static class ExitCodes
{
    /// <summary>Done: the run verified every copy, the request succeeded, the files are valid.</summary>
    public const int Ok = 0;

    /// <summary>The work ran and did not succeed: copies not verified, an operation that failed, invalid policy files.</summary>
    public const int Failed = 1;

    /// <summary>Bad input: an unknown option, a value out of range, a file that cannot be read. Nothing was done.</summary>
    public const int Usage = 2;

    /// <summary>A service could not be reached, or refused or failed the request (the line says which and why).</summary>
    public const int Unavailable = 3;

    /// <summary>Interrupted by Ctrl-C (SIGINT); 143 for SIGTERM.</summary>
    public const int Interrupted = 130;
}
