using System.Diagnostics;

namespace Treecast.TestSupport;

/// <summary>
/// Waits on an outcome by polling it, with a limit generous enough for a loaded CI machine. Tests wait on outcomes,
/// never on fixed sleeps or on a test harness going quiet: a busy machine can be quiet for a second mid-test.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(1);

    /// <returns>True once <paramref name="condition"/> holds; false if it still does not after <paramref name="limit"/>.</returns>
    public static Task<bool> TrueAsync(Func<bool> condition, TimeSpan? limit = null) =>
        TrueAsync(() => Task.FromResult(condition()), limit);

    /// <inheritdoc cref="TrueAsync(Func{bool}, TimeSpan?)"/>
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan? limit = null)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > (limit ?? DefaultLimit))
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
