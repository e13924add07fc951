using System.CommandLine;
using Spectre.Console;
using Treecast.Agent.Tests.Support;
using Treecast.Bench.Running;

namespace Treecast.Bench.Loopback;

/// <summary><c>loopback</c>: one relay hop with Treecast's transfer engine against a raw TCP relay of the same bytes, in one run.</summary>
public static class LoopbackCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var mib = new Option<int?>("--mib") { Description = "Image size in MiB (default 512, quick 32)." };
        var chunkKib = new Option<int>("--chunk-kib")
        {
            Description = "Chunk size in KiB, for Treecast and for the raw relay.",
            DefaultValueFactory = _ => 1024,
        };
        var children = new Option<int>("--children")
        {
            Description = "Leaves under the relay (each relay sends every byte to each of them).",
            DefaultValueFactory = _ => 1,
        };
        var tls = new Option<bool>("--tls") { Description = "Treecast's agents speak mutual TLS (the default)." };
        var plaintext = new Option<bool>("--plaintext") { Description = "Treecast's agents speak cleartext gRPC (Agent:Tls:AllowPlaintext)." };
        var repeat = new Option<int?>("--repeat")
        {
            Description = "Rounds of the three relays, in turn (default 3, quick 1); the table shows each relay's median round, "
                + "so one round slowed by the disk writing back the previous one's files does not decide the ratio.",
        };
        var command = new Command("loopback", "root → relay → leaf on loopback: Treecast's relay against a raw TCP relay (with and without XxHash3 per chunk).")
        {
            mib, chunkKib, children, tls, plaintext, repeat,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(tls) && result.GetValue(plaintext))
            {
                result.AddError("--tls and --plaintext contradict each other: give one (mutual TLS is the default).");
            }
        });
        command.SetAction((result, cancellationToken) =>
        {
            var quick = result.GetValue(common.Quick);
            return RunAsync(
                result.GetValue(mib) ?? (quick ? 32 : 512),
                result.GetValue(chunkKib),
                result.GetValue(children),
                !result.GetValue(plaintext),
                result.GetValue(repeat) ?? (quick ? 1 : 3),
                quick,
                common.ResultsDirectory(result),
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        int mib, int chunkKib, int children, bool tls, int repeat, bool quick, string resultsDirectory, CancellationToken cancellationToken)
    {
        if (mib < 1 || chunkKib < 1 || repeat < 1 || children < 1)
        {
            Console.Error.WriteLine($"treecast-bench loopback: --mib {mib}, --chunk-kib {chunkKib}, --children {children} and --repeat {repeat} must all be 1 or more.");
            return 2;
        }

        var startedAt = DateTimeOffset.UtcNow;
        var chunkBytes = chunkKib * 1024;
        await using var resources = new RunResources();
        var timeout = TimeSpan.FromMinutes(10);

        await WarmUpAsync(resources, chunkBytes, tls, quick, cancellationToken);
        var treecastDirectory = resources.TemporaryDirectory("loopback-treecast");
        var rawDirectory = resources.TemporaryDirectory("loopback-raw");
        // Released by the resources (before its folder is deleted), on Ctrl-C as on success.
        var relay = await LoopbackRelay.StartAsync(treecastDirectory, mib * 1024L * 1024L, plaintext: !tls, children);
        resources.OnRelease(async () => await relay.DisposeAsync());

        var rounds = new List<LoopbackCase[]>();
        for (var round = 1; round <= repeat; round++)
        {
            // The order turns each round: whichever relay runs right after another pays for that one's disk writeback.
            var timings = new RelayTiming[3];
            for (var turn = 0; turn < 3; turn++)
            {
                var which = (turn + round - 1) % 3;
                timings[which] = which switch
                {
                    0 => await relay.TransferAsync(chunkBytes, timeout).WaitAsync(cancellationToken),
                    1 => await RawTcpRelay.TransferAsync(relay.ImagePath, rawDirectory, chunkBytes, hash: false, cancellationToken, children),
                    _ => await RawTcpRelay.TransferAsync(relay.ImagePath, rawDirectory, chunkBytes, hash: true, cancellationToken, children),
                };
            }

            var (treecast, raw, rawHashed) = (timings[0], timings[1], timings[2]);
            rounds.Add(
            [
                Row($"treecast ({(tls ? "mutual TLS" : "cleartext")}, SHA-256 + XxHash3)", mib, treecast, raw),
                Row("raw TCP", mib, raw, raw),
                Row("raw TCP + XxHash3 per chunk", mib, rawHashed, raw),
            ]);
            Console.Error.WriteLine($"round {round}/{repeat}: " + string.Join(", ", rounds[^1].Select(c => $"{c.Relay} {c.MiBPerSecond:F0} MiB/s")));
        }

        // Each relay's median round (by leaf time); the ratios compare those medians.
        var medians = Enumerable.Range(0, 3).Select(i => rounds.Select(r => r[i]).OrderBy(c => c.LeafSeconds).ElementAt(rounds.Count / 2)).ToArray();
        var cases = medians.Select(c => c with
        {
            ThroughputRatioToRaw = c.MiBPerSecond / medians[1].MiBPerSecond,
            CpuRatioToRaw = c.CpuSecondsPerGiB / medians[1].CpuSecondsPerGiB,
        }).ToArray();

        var table = new Table().AddColumns(
            "relay", "leaf verified s", "MiB/s", "CPU-s per GiB", "ratio to raw (MiB/s)", "ratio to raw (CPU)", "peak RSS MiB (process)");
        foreach (var row in cases)
        {
            table.AddRow(
                row.Relay, $"{row.LeafSeconds:F2}", $"{row.MiBPerSecond:F0}", $"{row.CpuSecondsPerGiB:F2}", $"{row.ThroughputRatioToRaw:F2}", $"{row.CpuRatioToRaw:F2}",
                row.PeakResidentMiB is { } peak ? $"{peak:F0}" : "-");
        }

        AnsiConsole.Write(table);
        var path = ResultFile.Write(resultsDirectory, "loopback", startedAt, quick, new { mib, chunkKib, children, tls, repeat }, new { median = cases, rounds });
        AnsiConsole.MarkupLineInterpolated($"[grey]{mib} MiB, {chunkKib} KiB chunks, {children} leaves under the relay, median of {repeat} rounds; {Machine.Current}[/]");
        AnsiConsole.MarkupLineInterpolated($"results: {path}");
        return 0;
    }

    /// <summary>
    /// Transfers through both relays first, so the measured ones do not pay for JIT compilation and first connections:
    /// two of 64 MiB (quick: one of 4 MiB). With 4 MiB, the per-chunk code was still being compiled (tiered JIT, on-stack
    /// replacement) during the measured rounds: a quarter of a 256 MiB round's CPU profile was the JIT and the runtime.
    /// </summary>
    private static async Task WarmUpAsync(RunResources resources, int chunkBytes, bool tls, bool quick, CancellationToken cancellationToken)
    {
        var relay = await LoopbackRelay.StartAsync(resources.TemporaryDirectory("loopback-warm-up"), (quick ? 4L : 64L) * 1024 * 1024, plaintext: !tls);
        try
        {
            for (var round = 0; round < (quick ? 1 : 2); round++)
            {
                await relay.TransferAsync(chunkBytes, TimeSpan.FromMinutes(2)).WaitAsync(cancellationToken);
                await RawTcpRelay.TransferAsync(relay.ImagePath, resources.TemporaryDirectory("loopback-warm-up-raw"), chunkBytes, hash: true, cancellationToken);
            }
        }
        finally
        {
            await relay.DisposeAsync();
        }
    }

    private static LoopbackCase Row(string name, int mib, RelayTiming timing, RelayTiming raw)
    {
        var rate = mib / timing.LeafVerified.TotalSeconds;
        var cpuPerGiB = timing.ProcessCpu.TotalSeconds * 1024 / mib;
        return new LoopbackCase(
            name,
            timing.RelayVerified.TotalSeconds,
            timing.LeafVerified.TotalSeconds,
            rate,
            cpuPerGiB,
            rate / (mib / raw.LeafVerified.TotalSeconds),
            cpuPerGiB / (raw.ProcessCpu.TotalSeconds * 1024 / mib),
            timing.PeakResidentBytes / 1048576.0);
    }
}
