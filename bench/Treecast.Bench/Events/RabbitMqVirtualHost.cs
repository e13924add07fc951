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

    /// <summary>
    /// A virtual host and a broker user of the same name (<paramref name="name"/>, with a random password), both deleted
    /// with the run: for processes in other network namespaces, which reach the broker on a non-loopback address where
    /// RabbitMQ refuses <c>guest</c>. Leftovers of an earlier run whose names start with <paramref name="leftoverPrefix"/> go first.
    /// </summary>
    /// <returns>The broker URI with the user, its password and the virtual host; its host is <paramref name="broker"/>'s.</returns>
    public static async Task<Uri> CreateWithUserAsync(RunResources resources, Uri broker, string name, string leftoverPrefix, CancellationToken cancellationToken)
    {
        foreach (var vhost in (await RabbitMqCtlAsync(cancellationToken, "list_vhosts", "--quiet", "--no-table-headers")).Split('\n', StringSplitOptions.TrimEntries))
        {
            if (vhost.StartsWith(leftoverPrefix, StringComparison.Ordinal))
            {
                await RabbitMqCtlAsync(cancellationToken, "delete_vhost", vhost);
            }
        }

        foreach (var line in (await RabbitMqCtlAsync(cancellationToken, "list_users", "--quiet", "--no-table-headers")).Split('\n', StringSplitOptions.TrimEntries))
        {
            var user = line.Split('\t')[0];
            if (user.StartsWith(leftoverPrefix, StringComparison.Ordinal))
            {
                await RabbitMqCtlAsync(cancellationToken, "delete_user", user);
            }
        }

        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await RabbitMqCtlAsync(cancellationToken, "add_vhost", name);
        resources.OnRelease(() => RabbitMqCtlAsync(CancellationToken.None, "delete_vhost", name));
        await RabbitMqCtlAsync(cancellationToken, "add_user", name, password);
        resources.OnRelease(() => RabbitMqCtlAsync(CancellationToken.None, "delete_user", name));
        await RabbitMqCtlAsync(cancellationToken, "set_permissions", "-p", name, name, ".*", ".*", ".*");
        return new UriBuilder(broker) { UserName = name, Password = password, Path = "/" + name }.Uri;
    }

    private static Task<string> RabbitMqCtlAsync(CancellationToken cancellationToken, params string[] arguments) =>
        ExternalCommand.RunAsync(
            "rabbitmqctl",
            "The events and broadcast benchmarks need a local broker and rabbitmqctl (as root): bash tools/start-rabbitmq.sh",
            cancellationToken,
            arguments);
}
