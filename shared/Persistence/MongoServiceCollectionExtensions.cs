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
    public static bool AddTreecastMongo(this IServiceCollection services, IConfiguration configuration) =>
        services.AddTreecastMongo(configuration, MongoOptions.DefaultDatabase);

    /// <summary>
    /// As the other overload, for a service that keeps its state in a database of its own:
    /// <paramref name="serviceDatabase"/> is the database used when <c>Mongo:Database</c> is unset, and the key
    /// under which that database is registered (<c>GetRequiredKeyedService&lt;IMongoDatabase&gt;(serviceDatabase)</c>).
    /// </summary>
    /// <remarks>
    /// Keyed because one process may host several services (the standalone host): each then still finds its own
    /// database, and no service's stores can resolve another's by accident.
    /// </remarks>
    public static bool AddTreecastMongo(this IServiceCollection services, IConfiguration configuration, string serviceDatabase)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceDatabase);

        var options = configuration.GetSection(MongoOptions.Section).Get<MongoOptions>() ?? new MongoOptions();
        var configuredDatabase = configuration[$"{MongoOptions.Section}:{nameof(MongoOptions.Database)}"];
        options.Database = string.IsNullOrWhiteSpace(configuredDatabase) ? serviceDatabase : configuredDatabase;
        services.TryAddSingleton(Options.Create(options));
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return false;
        }

        TreecastBsonConventions.Register();

        // One client per process: it owns the connection pool.
        services.TryAddSingleton(_ => MongoClientFactory.Create(options));
        services.TryAddSingleton(provider => provider.GetRequiredService<IMongoClient>().GetDatabase(options.Database));
        services.TryAddKeyedSingleton(
            serviceDatabase,
            (provider, _) => provider.GetRequiredService<IMongoClient>().GetDatabase(options.Database));

        // Once per process, whichever service registered MongoDB first: they share the one client and server. Tagged
        // "ready" like MassTransit's bus check: /health/ready runs the checks with that tag.
        if (!services.Any(d => d.ServiceType == typeof(MongoHealthCheck)))
        {
            services.AddSingleton<MongoHealthCheck>();
            services.AddHealthChecks().AddCheck<MongoHealthCheck>("mongodb", tags: ["ready"]);
        }

        return true;
    }
}
