using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Qemu;

/// <summary>Writes log lines to the test's output, so a failed QEMU spec shows what the VMM did.</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper output, string name) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {name}: {formatter(state, exception)}{(exception is null ? string.Empty : " | " + exception.Message)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; a late line (a disposal) has nowhere to go.
        }
    }
}
