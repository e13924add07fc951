using MongoDB.Driver;
using Treecast.TestSupport;

namespace Treecast.Fault.Tests.Fleet;

/// <summary>
/// The fleet as docker compose deploys it: topology, policy and scheduler keep their state in MongoDB (a database
/// each, dropped at the end), so a restarted service carries on where it was.
/// </summary>
public sealed class MongoFaultFleet : FaultFleet
{
    private static readonly string[] Services = ["topology", "policy", "scheduler"];
    private readonly MongoDbServer _mongo = new();

    public override string Stores => "MongoDB";

    protected override async Task<string?> PrepareStoresAsync()
    {
        await _mongo.InitializeAsync();
        if (_mongo.Unavailable is not null)
        {
            return _mongo.Unavailable;
        }

        // MONGODB_URI set but not answering is a failure, not a skip: Require says so.
        _mongo.Require();
        return null;
    }

    protected override IReadOnlyDictionary<string, string> StoreEnvironment(string service) => new Dictionary<string, string>
    {
        ["Mongo__ConnectionString"] = _mongo.ConnectionString!,
        ["Mongo__Database"] = $"{_mongo.DatabaseName}-{service}",
    };

    protected override async Task DisposeStoresAsync()
    {
        if (_mongo.ConnectionString is { } connection)
        {
            var client = new MongoClient(connection);
            foreach (var service in Services)
            {
                try
                {
                    await client.DropDatabaseAsync($"{_mongo.DatabaseName}-{service}");
                }
                catch (Exception e) when (e is MongoException or TimeoutException)
                {
                    // A server that went away keeps a stray test database; nothing a test can do about it.
                }
            }
        }

        await _mongo.DisposeAsync();
    }
}
