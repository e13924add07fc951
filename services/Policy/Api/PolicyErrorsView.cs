using Treecast.Policy.Policies;

namespace Treecast.Policy.Api;

/// <summary>The JSON answer for policy files that cannot be loaded; <see cref="Messages"/> reads like compiler output.</summary>
public sealed record PolicyErrorsView(string Title, IReadOnlyList<PolicyError> Errors)
{
    public IReadOnlyList<string> Messages => Errors.Select(e => e.ToString()).ToList();
}
