namespace Treecast.Hosting;

/// <summary>
/// A message that can never be handled as sent (bad input a user or an outside system caused). The bus does
/// not retry it: it is logged with its reason and moved to the endpoint's <c>_error</c> queue at once.
/// The message should name the input, the problem and the fix.
/// </summary>
public class InvalidMessageException(string message) : Exception(message);
