using Testcontainers.RabbitMq;
using Xunit;

namespace Treecast.TestSupport;

/// <summary>
/// A real RabbitMQ broker for integration tests: the one at <c>RABBITMQ_URI</c> when set (CI starts
/// Debian's rabbitmq-server and sets it), otherwise a Testcontainers.RabbitMq container where a Docker
/// engine answers. Where neither exists, <see cref="Uri"/> is null and tests skip with <see cref="Unavailable"/>.
/// </summary>
public sealed class RabbitMqBroker : IAsyncLifetime
{
    // Pinned: a broker version we have tested against.
    private const string Image = "rabbitmq:3.13-management";

    private RabbitMqContainer? _container;

    public Uri? Uri { get; private set; }

    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("RABBITMQ_URI");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            Uri = new Uri(fromEnvironment);
            return;
        }

        try
        {
            _container = new RabbitMqBuilder(Image).Build();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await _container.StartAsync(timeout.Token);
            Uri = new Uri(_container.GetConnectionString());
        }
        catch (Exception ex)
        {
            Unavailable = "no RabbitMQ broker: RABBITMQ_URI is not set and Testcontainers could not start one "
                + $"({ex.GetType().Name}: {FirstLine(ex.Message)}). Run tools/test.sh, which starts Debian's rabbitmq-server.";
            _container = null;
        }
    }

    /// <summary>Skips the calling test, with the reason, when no broker is reachable.</summary>
    public Uri Require()
    {
        Skip.If(Uri is null, Unavailable);
        return Uri!;
    }

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
