namespace Treecast.Policy.Policies;

/// <summary>
/// The <c>on:</c> part of a policy: the event type, and field matchers that must all hold. Each matcher
/// lists the values it accepts (any-of); values compare as strings, ignoring case.
/// </summary>
public sealed record EventTrigger(string Type, IReadOnlyDictionary<string, IReadOnlyList<string>> Match)
{
    /// <summary>The prefix of a matcher on one of the event's attributes: <c>attributes.&lt;name&gt;</c>.</summary>
    public const string AttributePrefix = "attributes.";

    /// <summary>Field names a policy may match on, besides <c>attributes.&lt;name&gt;</c>.</summary>
    public static IReadOnlyList<string> MatchableFields { get; } = ["vmm", "severity", "workloadId"];
}
