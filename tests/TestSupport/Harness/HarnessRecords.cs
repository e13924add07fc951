using MassTransit.Testing;

namespace Treecast.TestSupport.Harness;

/// <summary>
/// What a MassTransit test harness has recorded, read without its waiting. The harness's own <c>Any</c> and
/// <c>Select</c> wait only until the bus has been quiet for its inactivity timeout, and return at once once it has
/// been: on a loaded machine they can give up before the message being waited for was handled. These read what is
/// recorded now, and <see cref="Eventually"/> polls them with a generous limit.
/// </summary>
public static class HarnessRecords
{
    private static readonly CancellationToken NoWaiting = new(canceled: true);

    /// <summary>The <typeparamref name="T"/> messages published so far that match.</summary>
    public static IReadOnlyList<T> Now<T>(this IPublishedMessageList published, Func<T, bool>? match = null)
        where T : class =>
        Matching(published.Select(_ => true, NoWaiting).Select(m => m.MessageObject), match);

    /// <summary>The <typeparamref name="T"/> messages consumed so far (faulted or not) that match.</summary>
    public static IReadOnlyList<T> Now<T>(this IReceivedMessageList consumed, Func<T, bool>? match = null)
        where T : class =>
        Matching(consumed.Select(_ => true, NoWaiting).Select(m => m.MessageObject), match);

    /// <summary>Waits until a matching <typeparamref name="T"/> has been published; false if none was within the limit.</summary>
    public static Task<bool> ShowsAsync<T>(this IPublishedMessageList published, Func<T, bool>? match = null, TimeSpan? limit = null)
        where T : class =>
        Eventually.TrueAsync(() => published.Now(match).Count > 0, limit);

    /// <summary>Waits until a matching <typeparamref name="T"/> has been consumed; false if none was within the limit.</summary>
    public static Task<bool> ShowsAsync<T>(this IReceivedMessageList consumed, Func<T, bool>? match = null, TimeSpan? limit = null)
        where T : class =>
        Eventually.TrueAsync(() => consumed.Now(match).Count > 0, limit);

    private static List<T> Matching<T>(IEnumerable<object> messages, Func<T, bool>? match)
        where T : class =>
        messages.OfType<T>().Where(m => match is null || match(m)).ToList();
}
