namespace Treecast.Policy.Api;

/// <summary>The body of <c>POST /operations/{id}/cancel</c>; both fields are optional.</summary>
/// <param name="RequestedBy">Who asks, for the history (an operator's name); replaced by the signed-in user's once requests carry one.</param>
/// <param name="Reason">Why, for the history and the operation's final reason.</param>
public sealed record OperationCancelRequest(string? RequestedBy, string? Reason);
