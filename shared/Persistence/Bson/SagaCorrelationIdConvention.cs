using System.Reflection;
using MassTransit;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Conventions;

namespace Treecast.Persistence.Bson;

/// <summary>
/// Maps a saga's <see cref="ISaga.CorrelationId"/> to <c>_id</c>: the repository finds, replaces and deletes by
/// it, and <c>_id</c> is the one field MongoDB indexes (uniquely) without being asked.
/// </summary>
public sealed class SagaCorrelationIdConvention : ConventionBase, IClassMapConvention
{
    public void Apply(BsonClassMap classMap)
    {
        var type = classMap.ClassType;
        if (!type.IsClass || !typeof(ISaga).IsAssignableFrom(type))
        {
            return;
        }

        // Only where the property is declared: a derived saga class inherits its base class's id mapping.
        var property = type.GetProperty(
            nameof(ISaga.CorrelationId),
            BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
        if (property is not null && property.PropertyType == typeof(Guid))
        {
            classMap.MapIdMember(property);
        }
    }
}
