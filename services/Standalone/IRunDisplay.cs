namespace Treecast.Standalone;

/// <summary>How the embedded run shows itself while it runs: what happens, as it happens, and the transfer's progress.</summary>
public interface IRunDisplay
{
    /// <summary>One line of what happened, <paramref name="elapsed"/> after the run started.</summary>
    void Say(TimeSpan elapsed, string line);

    /// <summary>Shows the transfer's progress from <paramref name="observer"/> until <paramref name="cancellationToken"/> (the outcome arrived).</summary>
    Task ShowProgressAsync(RunObserver observer, CancellationToken cancellationToken);
}
