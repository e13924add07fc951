using Treecast.Policy.Events;

namespace Treecast.Policy.Policies;

/// <summary>
/// The <c>on:</c> part of a policy: the event type, and field matchers that must all hold. Each matcher
/// lists the values it accepts (any-of); values compare as strings, ignoring case.
/// </summary>
public sealed record EventTrigger(string Type, IReadOnlyDictionary<string, IReadOnlyList<string>> Match)
{
    public bool Matches(ObservedEvent observed)
    {
        if (!string.Equals(Type, observed.Type, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var (field, accepted) in Match)
        {
            var actual = observed.Field(field);
            if (actual is null || !accepted.Any(value => string.Equals(value, actual, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }
}
