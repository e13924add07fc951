using System.Diagnostics;
using System.Text.Json;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>
/// The embedded run as a user mistypes it or stops it: every bad input is one line naming it (and a Failed summary under
/// --json), never a .NET stack trace; Ctrl-C mid-transfer ends it with exit 130 and leaves none of its files behind.
/// </summary>
public sealed class When_the_embedded_run_gets_bad_input_or_an_interrupt : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("treecast-input-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Theory]
    [InlineData("nan-seconds", "--workload-seconds 'nan' is not a number of seconds")]
    [InlineData("infinite-seconds", "--deadline-seconds 'Infinity' is not a number of seconds")]
    [InlineData("yaml-error", "YAML syntax error")]
    [InlineData("missing-policies", "no such file or directory")]
    [InlineData("no-matching-policy", "no policy starts a broadcast")]
    [InlineData("disk-too-small", "of disk for --hosts 500")]
    public async Task Should_refuse_it_in_one_line_with_a_failed_summary(string input, string expected)
    {
        var (exitCode, summary, output) = await StandaloneProcess.RunAsync([.. ArgumentsFor(input), "--json"]);

        Assert.True(exitCode == 2, $"exit code {exitCode}\n{output}");
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("treecast: ", StringComparison.Ordinal));
        Assert.Contains(expected, line);
        Assert.Equal("Failed", summary.RootElement.GetProperty("state").GetString());
        Assert.Contains(expected, summary.RootElement.GetProperty("failureReason").GetString());
    }

    [Fact]
    public async Task Should_stop_on_ctrl_c_with_exit_130_and_leave_no_files()
    {
        var runs = Directory.CreateDirectory(Path.Combine(_scratch, "tmp")).FullName;
        // env --default-signal: a test runner started in the background inherits SIGINT ignored, as a shell's '&' does.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--default-signal=INT", "dotnet", RepositoryLayout.ServiceDll("Standalone"),
            "--hosts", "4", "--racks", "2", "--vms", "2", "--image-mib", "512", "--json"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["TMPDIR"] = runs;
        using var process = Process.Start(start)!;
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
        var log = new List<string>();
        try
        {
            // Interrupt once the root's VMs are paused: the operation is under way, its images are on disk.
            while (await process.StandardError.ReadLineAsync(limit.Token) is { } line)
            {
                log.Add(line);
                if (line.Contains("paused 2 VMs on host-01", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.True(Directory.EnumerateFileSystemEntries(runs).Any(), "the run wrote nothing under TMPDIR\n" + string.Join('\n', log));
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(limit.Token);
            }

            var rest = await process.StandardError.ReadToEndAsync(limit.Token);
            await process.WaitForExitAsync(limit.Token);
            var output = string.Join('\n', log) + '\n' + rest;

            Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}\n{output}");
            using var summary = JsonDocument.Parse(await stdout);
            Assert.Equal("Cancelled", summary.RootElement.GetProperty("state").GetString());
            Assert.DoesNotContain("Unhandled exception", output);
            Assert.Empty(Directory.EnumerateFileSystemEntries(runs));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private string[] ArgumentsFor(string input)
    {
        var small = new[] { "--hosts", "3", "--racks", "1", "--image-mib", "4" };
        return input switch
        {
            "nan-seconds" => ["--workload-seconds", "nan"],
            "infinite-seconds" => ["--workload-seconds", "5", "--deadline-seconds", "Infinity"],
            "yaml-error" => [.. small, "--policies", Write("bad.yaml", "policies: [\n")],
            "missing-policies" => [.. small, "--policies", Path.Combine(_scratch, "none.yaml")],
            "no-matching-policy" => [.. small, "--policies", Write("minor.yaml", """
                policies:
                  - name: only-minor
                    on:
                      type: host.degraded
                      match:
                        severity: [minor]
                    actions:
                      - broadcast: {}

                """)],
            "disk-too-small" => ["--hosts", "500", "--racks", "10", "--vms", "64", "--image-mib", "65536"],
            _ => throw new ArgumentOutOfRangeException(nameof(input)),
        };
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_scratch, name);
        File.WriteAllText(path, content);
        return path;
    }
}
