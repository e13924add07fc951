namespace Treecast.Persistence;

/// <summary>
/// Bound from the <c>Mongo</c> configuration section (environment: <c>Mongo__ConnectionString</c>,
/// <c>Mongo__Database</c>). No connection string means the service keeps its state in memory.
/// </summary>
public sealed class MongoOptions
{
    public const string Section = "Mongo";

    /// <summary>The database when neither the configuration nor the service names one.</summary>
    public const string DefaultDatabase = "treecast";

    /// <summary>For example <c>mongodb://treecast:secret@mongo:27017/?authSource=admin</c>.</summary>
    public string? ConnectionString { get; set; }

    public string Database { get; set; } = DefaultDatabase;
}
