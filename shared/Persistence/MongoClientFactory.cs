using MongoDB.Driver;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence;

/// <summary>Builds the one <see cref="IMongoClient"/> of a process from <see cref="MongoOptions"/>.</summary>
public static class MongoClientFactory
{
    public static IMongoClient Create(MongoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException(
                $"{MongoOptions.Section}:ConnectionString is empty: set it (environment Mongo__ConnectionString, "
                + "for example mongodb://localhost:27017) to keep state in MongoDB, or leave it unset and do not create a client.");
        }

        // Class maps are built on first use: the conventions must be in place before any document is touched.
        TreecastBsonConventions.Register();
        var settings = MongoClientSettings.FromConnectionString(options.ConnectionString);
        settings.ApplicationName ??= "treecast";
        return new MongoClient(settings);
    }
}
