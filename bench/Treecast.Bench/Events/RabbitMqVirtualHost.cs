using System.Diagnostics;
using Treecast.Bench.Running;

namespace Treecast.Bench.Events;

/// <summary>
/// A virtual host of our own on a local broker (through <c>rabbitmqctl</c>), deleted with the run, so the benchmark
/// neither sees nor disturbs the queues of anyone else on the broker.
/// </summary>
public static class RabbitMqVirtualHost
{
    /// <returns>The broker URI naming the new virtual host.</returns>
    public static async Task<Uri> CreateAsync(RunResources resources, Uri broker, CancellationToken cancellationToken)
    {
        var name = "treecast-bench-" + Guid.NewGuid().ToString("N")[..12];
        var user = Uri.UnescapeDataString(broker.UserInfo.Split(':')[0] is { Length: > 0 } u ? u : "guest");
        await RabbitMqCtlAsync(cancellationToken, "add_vhost", name);
        resources.OnRelease(() => RabbitMqCtlAsync(CancellationToken.None, "delete_vhost", name));
        await RabbitMqCtlAsync(cancellationToken, "set_permissions", "-p", name, user, ".*", ".*", ".*");
        return new UriBuilder(broker) { Path = "/" + name }.Uri;
    }

    private static async Task RabbitMqCtlAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("rabbitmqctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"rabbitmqctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}{await output} "
                + "The events benchmark needs a local broker and rabbitmqctl (as root): bash tools/start-rabbitmq.sh");
        }
    }
}
