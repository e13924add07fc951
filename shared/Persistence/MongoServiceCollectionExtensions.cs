using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence;

public static class MongoServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MongoOptions"/> and, when <c>Mongo:ConnectionString</c> is set, one
    /// <see cref="IMongoClient"/> and the service's <see cref="IMongoDatabase"/>. Returns whether it was set:
    /// the caller picks MongoDB-backed stores when true and in-memory stores otherwise.
    /// </summary>
    public static bool AddTreecastMongo(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var options = configuration.GetSection(MongoOptions.Section).Get<MongoOptions>() ?? new MongoOptions();
        services.TryAddSingleton(Options.Create(options));
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return false;
        }

        TreecastBsonConventions.Register();

        // One client per process: it owns the connection pool.
        services.TryAddSingleton(_ => MongoClientFactory.Create(options));
        services.TryAddSingleton(provider => provider.GetRequiredService<IMongoClient>().GetDatabase(options.Database));
        return true;
    }
}
