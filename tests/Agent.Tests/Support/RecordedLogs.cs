using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Treecast.Agent.Tests.Support;

/// <summary>Keeps every log line of the agents a test starts (information and up), so it can assert what an operator would read.</summary>
internal sealed class RecordedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(DateTime At, string Line)> _lines = new();

    public ILoggerFactory Factory => LoggerFactory.Create(builder => builder.AddProvider(this).SetMinimumLevel(LogLevel.Information));

    public IReadOnlyList<string> With(string text) => _lines.Select(l => l.Line).Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();

    /// <summary>Every line so far, in order: for a failure message that says what the agents did.</summary>
    public IReadOnlyList<string> All => _lines.Select(l => $"{l.At:HH:mm:ss.fff} {l.Line}").ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordedLogs logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs._lines.Enqueue((DateTime.UtcNow, $"{logLevel}: {formatter(state, exception)}"));
    }
}
