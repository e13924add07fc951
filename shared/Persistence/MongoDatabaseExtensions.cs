using MongoDB.Driver;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence;

public static class MongoDatabaseExtensions
{
    /// <summary>
    /// The collection <paramref name="name"/> of <paramref name="database"/>, with the Treecast conventions in
    /// place. For stores: the driver builds a document type's class map on first use, and a store may be handed a
    /// database from any client (a test's, a tool's), not only the one <see cref="MongoClientFactory"/> made.
    /// </summary>
    public static IMongoCollection<TDocument> GetTreecastCollection<TDocument>(this IMongoDatabase database, string name)
    {
        ArgumentNullException.ThrowIfNull(database);
        TreecastBsonConventions.Register();
        return database.GetCollection<TDocument>(name);
    }
}
