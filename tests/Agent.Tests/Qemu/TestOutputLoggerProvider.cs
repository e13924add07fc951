using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Qemu;

/// <summary>Sends a host's logs to the test's output, so a failed end-to-end spec shows what every agent did.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger<object>(output, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }
}
