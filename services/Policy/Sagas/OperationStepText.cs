using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>How a step reads in reasons and history notes: lower case, as in "receive failed: disk full".</summary>
public static class OperationStepText
{
    public static string Name(this OperationStep step) => step.ToString().ToLowerInvariant();
}
