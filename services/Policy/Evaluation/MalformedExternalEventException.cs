using Treecast.Hosting;

namespace Treecast.Policy.Evaluation;

/// <summary>
/// An external event that can never be handled as sent. Not retried: the message goes straight to the
/// endpoint's <c>_error</c> queue, where an operator can read this message next to it.
/// </summary>
public sealed class MalformedExternalEventException(string field, string reason)
    : InvalidMessageException($"malformed external event: {reason}")
{
    /// <summary>The JSON field that is missing or wrong.</summary>
    public string Field { get; } = field;
}
