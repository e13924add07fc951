using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Treecast.Hosting;
using Treecast.Hosting.Logging;

namespace Treecast.Policy.Tests.Logging;

/// <summary>The console log every service writes (ServiceDefaults); the policy service's decisions are its busiest user.</summary>
public sealed partial class When_a_service_writes_its_console_log
{
    [Fact]
    public void Should_write_every_line_whole_and_in_order_when_many_threads_log_at_once()
    {
        const int threads = 8;
        const int perThread = 3_000;
        using var output = new MemoryStream();
        var provider = new BatchingConsoleLoggerProvider(SimpleFormatter(), output);
        var logger = provider.CreateLogger("Treecast.Test");

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
        {
            for (var n = 0; n < perThread; n++)
            {
                logger.LogInformation("Event {Thread} {Number} decided", thread, n);
            }
        });
        provider.Dispose();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(threads * perThread, lines.Length);
        var next = new int[threads];
        foreach (var line in lines)
        {
            var match = FrameworkLine().Match(line);
            Assert.True(match.Success, $"not a whole line in the framework's format: '{line}'");
            var thread = int.Parse(match.Groups["thread"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(next[thread]++, int.Parse(match.Groups["number"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void Should_write_an_exception_under_its_line()
    {
        using var output = new MemoryStream();
        var provider = new BatchingConsoleLoggerProvider(SimpleFormatter(), output);
        provider.CreateLogger("Treecast.Test").LogError(new InvalidOperationException("broker gone"), "Step failed");
        provider.Dispose();

        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.Contains("fail: Treecast.Test[0] Step failed System.InvalidOperationException: broker gone", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_be_the_console_logger_of_every_service()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddServiceDefaults();
        using var host = builder.Build();

        var providers = host.Services.GetServices<ILoggerProvider>().ToList();
        Assert.Contains(providers, p => p is BatchingConsoleLoggerProvider);
        Assert.DoesNotContain(providers, p => p is ConsoleLoggerProvider);
    }

    private static ConsoleFormatter SimpleFormatter()
    {
        var services = new ServiceCollection()
            .AddLogging(b => b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }))
            .BuildServiceProvider();
        return services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d{3} info: Treecast\.Test\[0\] Event (?<thread>\d+) (?<number>\d+) decided$")]
    private static partial Regex FrameworkLine();
}
