namespace Treecast.Agent.Transfer;

/// <summary>
/// Keeps an agent's embedded server off the console: the process's own host owns Ctrl+C and SIGTERM
/// and stops the agents itself.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
