namespace Treecast.Policy.Policies;

/// <summary>Policy files that cannot be loaded; the message lists every error, one per line.</summary>
public sealed class PolicyValidationException(IReadOnlyList<PolicyError> errors)
    : Exception(Describe(errors))
{
    public IReadOnlyList<PolicyError> Errors { get; } = errors;

    private static string Describe(IReadOnlyList<PolicyError> errors) =>
        $"{errors.Count} error(s) in the execution policies:{Environment.NewLine}"
        + string.Join(Environment.NewLine, errors.Select(e => "  " + e));
}
