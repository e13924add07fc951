using MongoDB.Driver;
using Testcontainers.MongoDb;
using Xunit;

namespace Treecast.TestSupport;

/// <summary>
/// A real MongoDB server for integration tests: the one at <c>MONGODB_URI</c> when set, otherwise a
/// Testcontainers.MongoDb container where a Docker engine answers. Where neither exists, <see cref="Database"/>
/// is null and tests skip with <see cref="Unavailable"/>. Each fixture works in a database of its own, dropped
/// on dispose, so test classes and runs never see each other's documents.
/// </summary>
public sealed class MongoDbServer : IAsyncLifetime
{
    // Pinned: a server version we have tested against.
    private const string Image = "mongo:7.0";

    private MongoDbContainer? _container;
    private IMongoClient? _client;
    private string? _misconfigured;

    public string DatabaseName { get; } = "treecast-test-" + Guid.NewGuid().ToString("N")[..12];

    public IMongoDatabase? Database { get; private set; }

    public string? Unavailable { get; private set; }

    /// <summary>The server's connection string, for a service started as its own process; null when unavailable.</summary>
    public string? ConnectionString { get; private set; }

    public async Task InitializeAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("MONGODB_URI");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            try
            {
                await ConnectAsync(fromEnvironment);
            }
            catch (Exception ex) when (ex is TimeoutException or MongoException)
            {
                // Someone pointed the tests at a server: one that does not answer is a failure, not a skip.
                _misconfigured = $"MONGODB_URI is set but the server did not answer ({ex.GetType().Name}: {FirstLine(ex.Message)})";
            }

            return;
        }

        try
        {
            _container = new MongoDbBuilder(Image).Build();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await _container.StartAsync(timeout.Token);
            await ConnectAsync(_container.GetConnectionString());
        }
        catch (Exception ex)
        {
            Unavailable = "no MongoDB server: MONGODB_URI is not set and Testcontainers could not start one "
                + $"({ex.GetType().Name}: {FirstLine(ex.Message)}). Set MONGODB_URI (for example mongodb://localhost:27017) to run these tests.";
            Database = null;
        }
    }

    /// <summary>Skips the calling test, with the reason, when no server is reachable.</summary>
    public IMongoDatabase Require()
    {
        if (_misconfigured is not null)
        {
            throw new InvalidOperationException(_misconfigured);
        }

        Skip.If(Database is null, Unavailable);
        return Database!;
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.DropDatabaseAsync(DatabaseName);
            }
            catch (Exception ex) when (ex is TimeoutException or MongoException)
            {
                // A shared server that went away keeps a stray test database; nothing a test can do about it.
            }

            _client.Dispose();
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    private async Task ConnectAsync(string connectionString)
    {
        var settings = MongoClientSettings.FromConnectionString(connectionString);
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(10);
        _client = new MongoClient(settings);
        ConnectionString = connectionString;
        var database = _client.GetDatabase(DatabaseName);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await database.RunCommandAsync<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("ping", 1), cancellationToken: timeout.Token);
        Database = database;
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
