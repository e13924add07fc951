namespace Treecast.Bench.Running;

/// <summary>
/// A program of the machine the benchmark needs failed (ip, tc, rabbitmqctl): its message names the command, its own
/// error and what to do, and is all the user is shown.
/// </summary>
public sealed class ExternalCommandException(string message) : InvalidOperationException(message);
