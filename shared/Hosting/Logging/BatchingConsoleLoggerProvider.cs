using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Treecast.Hosting.Logging;

/// <summary>
/// The console log of every Treecast service: lines as the framework's simple formatter writes them (one line, the
/// timestamp <see cref="ServiceDefaults"/> sets), handed to a <see cref="ConsoleLineWriter"/>. The framework's own
/// console logger takes a lock, wakes its writer and makes a write call for every line; at thousands of lines a second
/// (the policy service's decisions) the lock, the wake-ups and the calls cost more than the lines.
/// </summary>
[ProviderAlias("Console")]
public sealed class BatchingConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConsoleFormatter _formatter;
    private readonly ConsoleLineWriter _writer;
    private readonly ConcurrentDictionary<string, Logger> _loggers = new(StringComparer.Ordinal);
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    /// <summary>Writes to standard output with the simple formatter among <paramref name="formatters"/> (AddSimpleConsole registers it).</summary>
    public BatchingConsoleLoggerProvider(IEnumerable<ConsoleFormatter> formatters)
        : this(formatters.Single(f => f.Name == ConsoleFormatterNames.Simple), Console.OpenStandardOutput())
    {
    }

    public BatchingConsoleLoggerProvider(ConsoleFormatter formatter, Stream output)
    {
        _formatter = formatter;
        _writer = new ConsoleLineWriter(output);
    }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new Logger(name, this));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Writes every line logged so far.</summary>
    public void Dispose() => _writer.Dispose();

    private sealed class Logger(string category, BatchingConsoleLoggerProvider provider) : ILogger
    {
        // Formatting happens on the caller's thread, into a buffer of its own, as in the framework's console logger.
        [ThreadStatic]
        private static StringWriter? t_line;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            t_line ??= new StringWriter();
            provider._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), provider._scopes, t_line);
            var buffer = t_line.GetStringBuilder();
            if (buffer.Length == 0)
            {
                return;
            }

            var line = buffer.ToString();
            buffer.Clear();
            if (buffer.Capacity > 1024)
            {
                buffer.Capacity = 1024;
            }

            provider._writer.Write(line);
        }
    }
}
