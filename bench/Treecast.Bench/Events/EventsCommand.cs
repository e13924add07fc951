using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Spectre.Console;
using Treecast.Bench.Broadcast;
using Treecast.Bench.Running;
using Treecast.TestSupport.Processes;

namespace Treecast.Bench.Events;

/// <summary>
/// <c>events</c>: external events published at a steady rate to the policy service (its own process, on RabbitMQ),
/// and the decisions it publishes (<c>BroadcastRequested</c>) read back from the broker: events/s sustained, latency.
/// </summary>
public static class EventsCommand
{
    private const string ExternalEvents = PolicyIngress.Exchange;
    private const string Decisions = "Treecast.Contracts:BroadcastRequested";

    public static Command Build()
    {
        var common = new CommonOptions();
        var rate = new Option<int?>("--rate") { Description = "Events per second to publish (default 100, quick 20)." };
        var seconds = new Option<int?>("--seconds") { Description = "How long to publish (default 30, quick 5)." };
        var warmup = new Option<int?>("--warmup-seconds")
        {
            Description = "Events at the same rate before the measured ones, every one decided before measuring starts, so a freshly started service's JIT and connections are not what is measured (default 5, quick 1; 0 for none).",
        };
        var broker = new Option<Uri>("--rabbitmq")
        {
            Description = "The local broker (bash tools/start-rabbitmq.sh); the benchmark works in a virtual host of its own.",
            DefaultValueFactory = _ => new Uri("amqp://guest:guest@localhost:5672/"),
        };
        var command = new Command("events", "External events through the policy service on RabbitMQ at a steady rate: events/s with in = out, latency publish → decision.")
        {
            rate, seconds, warmup, broker,
        };
        common.AddTo(command);
        command.SetAction((result, cancellationToken) =>
        {
            var quick = result.GetValue(common.Quick);
            return RunAsync(
                result.GetValue(rate) ?? (quick ? 20 : 100),
                result.GetValue(seconds) ?? (quick ? 5 : 30),
                result.GetValue(warmup) ?? (quick ? 1 : 5),
                result.GetRequiredValue(broker),
                quick,
                common.ResultsDirectory(result),
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(int rate, int seconds, int warmupSeconds, Uri broker, bool quick, string resultsDirectory, CancellationToken cancellationToken)
    {
        if (rate < 1 || seconds < 1 || warmupSeconds < 0)
        {
            Console.Error.WriteLine($"treecast-bench events: --rate {rate} and --seconds {seconds} must both be 1 or more, --warmup-seconds {warmupSeconds} 0 or more.");
            return 2;
        }

        var startedAt = DateTimeOffset.UtcNow;
        await using var resources = new RunResources();
        var virtualHost = await RabbitMqVirtualHost.CreateAsync(resources, broker, cancellationToken);
        var policies = Path.Combine(RepositoryLayout.Root, "infra", "policies");
        var policy = ServiceProcesses.Start(
            resources,
            "Policy",
            new Dictionary<string, string>
            {
                ["Bus__Transport"] = "RabbitMq",
                ["Bus__RabbitMqUri"] = virtualHost.ToString(),
                ["Policy__PoliciesPath"] = policies,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            },
            resources.TemporaryDirectory("events-policy"));

        var factory = new ConnectionFactory { Uri = virtualHost };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await WaitForExchangeAsync(connection, policy, cancellationToken);

        var published = new ConcurrentDictionary<string, long>();
        var decided = new ConcurrentDictionary<string, long>();
        var clock = Stopwatch.StartNew();
        await channel.ExchangeDeclareAsync(Decisions, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(queue.QueueName, Decisions, string.Empty, cancellationToken: cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            using var envelope = JsonDocument.Parse(delivery.Body);
            var root = envelope.RootElement.GetProperty("message").GetProperty("rootVmmId").GetString();
            if (root is not null)
            {
                decided.TryAdd(root, clock.ElapsedTicks);
            }

            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer, cancellationToken);

        // Each event names a VMM of its own, so its decision (whose root is that VMM) is found again.
        var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
        var interval = Stopwatch.Frequency / (double)rate;
        async Task<long> PublishAsync(string prefix, int count, ConcurrentDictionary<string, long> sent)
        {
            var start = clock.ElapsedTicks;
            for (var n = 0; n < count; n++)
            {
                var due = start + (long)(n * interval);
                var wait = TimeSpan.FromTicks((due - clock.ElapsedTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                var vmm = $"{prefix}{n:D7}";
                var body = JsonSerializer.SerializeToUtf8Bytes(new { type = "host.degraded", eventId = $"bench-{Guid.NewGuid():N}", vmm, severity = "critical" });
                sent[vmm] = clock.ElapsedTicks;
                await channel.BasicPublishAsync(ExternalEvents, string.Empty, mandatory: false, properties, body, cancellationToken);
            }

            return start;
        }

        var warmupEvents = rate * warmupSeconds;
        if (warmupEvents > 0)
        {
            var warm = new ConcurrentDictionary<string, long>();
            await PublishAsync("bench-warm-", warmupEvents, warm);
            var settling = Stopwatch.StartNew();
            while (warm.Keys.Any(k => !decided.ContainsKey(k)) && settling.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100, cancellationToken);
            }

            Console.Error.WriteLine($"warm-up: {warm.Keys.Count(decided.ContainsKey)} of {warm.Count} events decided, {await OperationsStartedAsync(connection, cancellationToken)} operations started; measuring");
            foreach (var key in warm.Keys)
            {
                decided.TryRemove(key, out _);
            }
        }

        var total = rate * seconds;
        var policyCpuAtStart = policy.TotalProcessorTime;
        var benchCpuAtStart = Environment.CpuUsage.TotalTime;
        var localBroker = LocalBroker.Find(broker);
        var brokerCpuAtStart = localBroker?.CpuSeconds();
        var startedBefore = await OperationsStartedAsync(connection, cancellationToken);
        var publishStart = await PublishAsync("bench-vmm-", total, published);
        var publishEnd = clock.ElapsedTicks;
        // Wait while decisions keep coming: a busy machine decides late, not never. Only 30 s without a new decision ends
        // the wait early, so "decided" below "published" means events lost, not events still queued.
        var drain = Stopwatch.StartNew();
        var decidedSoFar = 0;
        while (published.Keys.Count(decided.ContainsKey) is var count && count < total)
        {
            if (count != decidedSoFar)
            {
                decidedSoFar = count;
                drain.Restart();
            }
            else if (drain.Elapsed > TimeSpan.FromSeconds(30))
            {
                Console.Error.WriteLine($"{total - count} of {total} events not decided: no decision for 30 s (lost)");
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        // A decision is the policy's; the operation it requests starts when the saga has taken the request and asked
        // topology for its tree. The saga runs in the same service, after the decision: when it keeps up, every
        // decided event's operation has started by now; when it does not, the rest wait in its queue.
        var startedAfter = await OperationsStartedAsync(connection, cancellationToken);
        var startedSeconds = (clock.ElapsedTicks - publishStart) / (double)Stopwatch.Frequency;
        var operationsStartedPerSecond = (startedAfter - startedBefore) / startedSeconds;
        var operationsWaiting = Math.Max(0, warmupEvents + total - startedAfter);

        // What one event costs the policy service, readable when other work on the machine slows it down.
        // The publisher and the decision reader share the machine with the service and the broker: their cost says how much
        // of it is left for the service.
        var policyCpu = policy.TotalProcessorTime - policyCpuAtStart;
        var benchCpu = Environment.CpuUsage.TotalTime - benchCpuAtStart;
        var brokerCpuSeconds = localBroker?.CpuSeconds() - brokerCpuAtStart;
        var latencies = published
            .Where(p => decided.ContainsKey(p.Key))
            .Select(p => (decided[p.Key] - p.Value) * 1000.0 / Stopwatch.Frequency)
            .Order()
            .ToList();

        // Only the measured events count: a warm-up decision arriving late is not one of them.
        var measured = published.Keys.Where(decided.ContainsKey).Select(k => decided[k]).ToList();
        var lastDecision = measured.Count == 0 ? publishEnd : measured.Max();
        var sustained = measured.Count / ((lastDecision - publishStart) / (double)Stopwatch.Frequency);
        var outcome = new
        {
            rate,
            seconds,
            published = total,
            decided = measured.Count,
            publishedPerSecond = total / ((publishEnd - publishStart) / (double)Stopwatch.Frequency),
            decidedPerSecond = sustained,
            latencyMedianMs = Percentile(latencies, 0.5),
            latencyP99Ms = Percentile(latencies, 0.99),
            latencyMaxMs = latencies.Count == 0 ? (double?)null : latencies[^1],
            operationsStartedPerSecond,
            operationsWaitingToStart = operationsWaiting,
            policyCpuSeconds = policyCpu.TotalSeconds,
            policyCpuMsPerEvent = policyCpu.TotalMilliseconds / total,
            benchCpuMsPerEvent = benchCpu.TotalMilliseconds / total,
            brokerCpuMsPerEvent = brokerCpuSeconds * 1000 / total,
            loadAverage = ProcessUsage.LoadAverage(),
        };

        var table = new Table().AddColumns("target events/s", "published", "decided", "published/s", "decided/s", "latency median ms", "p99 ms", "max ms", "operations started/s", "waiting to start", "policy CPU ms/event", "bench CPU ms/event", "broker CPU ms/event", "load");
        table.AddRow(
            $"{rate}",
            $"{total}",
            $"{measured.Count}",
            $"{outcome.publishedPerSecond:F1}",
            $"{sustained:F1}",
            $"{outcome.latencyMedianMs:F1}",
            $"{outcome.latencyP99Ms:F1}",
            $"{outcome.latencyMaxMs:F1}",
            $"{outcome.operationsStartedPerSecond:F1}",
            $"{outcome.operationsWaitingToStart}",
            $"{outcome.policyCpuMsPerEvent:F3}",
            $"{outcome.benchCpuMsPerEvent:F3}",
            outcome.brokerCpuMsPerEvent is { } brokerMs ? $"{brokerMs:F3}" : "-",
            $"{outcome.loadAverage:F1}");
        AnsiConsole.Write(table);
        var path = ResultFile.Write(resultsDirectory, "events", startedAt, quick, new { rate, seconds, warmupSeconds, broker = $"{broker.Host}:{broker.Port}" }, outcome);
        AnsiConsole.MarkupLineInterpolated($"[grey]policy service on RabbitMQ ({broker.Host}:{broker.Port}, a virtual host of its own); {Machine.Current}[/]");
        AnsiConsole.MarkupLineInterpolated($"results: {path}");
        return measured.Count == total ? 0 : 1;
    }

    /// <summary>Until the policy service has declared the external-events exchange (it does when its bus starts).</summary>
    private static async Task WaitForExchangeAsync(IConnection connection, Process policy, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (policy.HasExited)
            {
                throw new InvalidOperationException($"The policy service exited ({policy.ExitCode}) before its bus started.");
            }

            try
            {
                await using var probe = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                await probe.ExchangeDeclarePassiveAsync(ExternalEvents, cancellationToken);
                await probe.QueueDeclarePassiveAsync(PolicyIngress.Queue, cancellationToken);
                return;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Operations the saga has started: each one sends topology a <c>ResolveTree</c>, and no topology service runs here,
    /// so they stay in its queue and its depth counts them (read without consuming them: nothing on the path is added).
    /// </summary>
    private static async Task<long> OperationsStartedAsync(IConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            // A channel of its own: a passive declare of a queue not there yet (no operation started) closes its channel.
            await using var probe = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var topology = await probe.QueueDeclarePassiveAsync(Treecast.Contracts.Addresses.TopologyQueue, cancellationToken);
            return topology.MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    private static double? Percentile(List<double> sorted, double fraction) =>
        sorted.Count == 0 ? null : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
}
