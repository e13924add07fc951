using System.Text.RegularExpressions;
using Treecast.Integration.Tests.Processes;

namespace Treecast.Integration.Tests;

/// <summary>
/// One trace follows an operation from the external event to the last verified copy: the embedded run with every span
/// written to stdout (<c>Telemetry:ConsoleTraces</c>), grouped by trace id.
/// </summary>
public sealed partial class When_an_operation_is_traced
{
    [Fact]
    public async Task Should_put_the_event_the_saga_the_pushes_and_the_copies_in_one_trace()
    {
        var (exitCode, _, output) = await StandaloneProcess.RunAsync(
            expectJson: false,
            new Dictionary<string, string> { ["Telemetry__ConsoleTraces"] = "true" },
            "--hosts", "4", "--racks", "2", "--vms", "1", "--image-mib", "4");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output[^Math.Min(output.Length, 4000)..]}");
        var spans = Span().Matches(output).Select(m => (Trace: m.Groups["trace"].Value, Name: m.Groups["name"].Value.Trim())).ToList();
        var eventTrace = Assert.Single(spans, s => s.Name.EndsWith("Treecast.Contracts:ExternalEvent send", StringComparison.Ordinal)).Trace;
        var names = spans.Where(s => s.Trace == eventTrace).Select(s => s.Name).ToList();

        Assert.Contains(names, n => n.EndsWith("BroadcastRequested send", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("broadcast-operation-state process", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("POST /treecast.transfer.v1.VmTransfer/Push", StringComparison.Ordinal));
        Assert.Equal(3, names.Count(n => n.EndsWith("Treecast.Contracts:VmsReceived send", StringComparison.Ordinal)));
        Assert.Contains(names, n => n.EndsWith("Treecast.Contracts:BroadcastOperationFinished send", StringComparison.Ordinal));
    }

    // The console exporter's block per span: "Activity.TraceId: <id>" ... "Activity.DisplayName: <name>".
    [GeneratedRegex(@"Activity\.TraceId:\s+(?<trace>[0-9a-f]{32})[\s\S]*?Activity\.DisplayName:\s+(?<name>[^\r\n]+)")]
    private static partial Regex Span();
}
