using MassTransit;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Conventions;
using MongoDB.Bson.Serialization.Serializers;

namespace Treecast.Persistence.Bson;

/// <summary>
/// How Treecast documents look in MongoDB, for operators reading them with mongosh as much as for the driver.
/// Call <see cref="Register"/> before the first document is read or written: the driver builds (and caches) a
/// type's class map and serializers on first use, and later registrations do not change them.
/// </summary>
public static class TreecastBsonConventions
{
    public const string ConventionPackName = "treecast";

    private static readonly Lock Gate = new();
    private static bool _registered;

    public static void Register()
    {
        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            // Driver 3 has no default GUID representation and refuses to write a Guid without one. Standard
            // (binary subtype 4) is what mongosh shows as UUID("...") and what other languages read unchanged.
            // Guid? goes through NullableSerializer, which looks this serializer up.
            RegisterOrVerify(new GuidSerializer(GuidRepresentation.Standard),
                s => s is GuidSerializer { GuidRepresentation: GuidRepresentation.Standard });

            // DateTimeOffset as a document { DateTime: ISODate (UTC), Ticks, Offset }: the default (an array of
            // ticks and offset) is unreadable and unqueryable by time; a bare UTC DateTime is queryable but BSON
            // dates keep milliseconds only, so a saga would not read back what it wrote (and the offset is lost).
            // The document keeps the exact value, shows operators a real date, and sorts and compares by that
            // date first (query "RequestedAt.DateTime" in mongosh, index it for time-range queries).
            RegisterOrVerify(new DateTimeOffsetSerializer(BsonType.Document),
                s => s is DateTimeOffsetSerializer { Representation: BsonType.Document });

            var pack = new ConventionPack
            {
                // Operators read "Duplicate", not 1; renumbering an enum cannot corrupt stored documents.
                new EnumRepresentationConvention(BsonType.String),

                // A document written by a newer version (an added field) must still load in an older one.
                new IgnoreExtraElementsConvention(true),
                new SagaCorrelationIdConvention(),
            };
            ConventionRegistry.Register(ConventionPackName, pack, IsTreecastType);
            _registered = true;
        }
    }

    private static bool IsTreecastType(Type type) =>
        type.Namespace?.StartsWith("Treecast", StringComparison.Ordinal) == true
        || typeof(ISaga).IsAssignableFrom(type);

    private static void RegisterOrVerify<T>(IBsonSerializer<T> serializer, Func<IBsonSerializer<T>, bool> isExpected)
    {
        if (BsonSerializer.TryRegisterSerializer(serializer))
        {
            return;
        }

        // Something looked up (and so fixed) the serializer for T before Register ran. Writing with another
        // representation would silently produce documents nothing else can query: fail loudly instead.
        var existing = BsonSerializer.LookupSerializer<T>();
        if (!isExpected(existing))
        {
            throw new InvalidOperationException(
                $"The BSON serializer for {typeof(T).Name} was fixed as {existing.GetType().Name} before "
                + $"{nameof(TreecastBsonConventions)}.{nameof(Register)}() ran. Call it first thing at start-up, "
                + "before any MongoDB collection is used.");
        }
    }
}
