using System.Net;
using System.Text.Json;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests.Health;

/// <summary>
/// <c>/health/ready</c> tells the truth: a service whose broker is gone, or whose MongoDB does not answer, is not
/// ready, and becomes ready again by itself when they are back. Runs against a RabbitMQ node of its own, since the
/// test stops it.
/// </summary>
public sealed class When_a_service_loses_its_broker_or_its_store : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(2);
    private readonly PrivateRabbitMqNode _broker = new();
    private readonly FleetProcesses _processes = new("treecast-health-");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };

    public Task InitializeAsync() => _broker.InitializeAsync();

    [SkippableFact]
    public async Task Should_not_be_ready_while_the_broker_is_down()
    {
        _broker.Require();
        var accounts = await _broker.CreateAccountsAsync();
        var topology = _processes.Start("topology", "Topology", FleetProcesses.BusEnvironment(accounts.TopologyUri));
        var ready = await ReadyAddressAsync(topology);

        await WaitForAsync(ready, HttpStatusCode.OK, topology);
        await _broker.StopBrokerAsync();
        var down = await WaitForAsync(ready, HttpStatusCode.ServiceUnavailable, topology);
        Assert.Contains("masstransit-bus", down, StringComparison.Ordinal);

        await _broker.StartBrokerAsync();
        await WaitForAsync(ready, HttpStatusCode.OK, topology);
    }

    [SkippableFact]
    public async Task Should_not_be_ready_while_mongodb_does_not_answer()
    {
        _broker.Require();
        var accounts = await _broker.CreateAccountsAsync();
        // A port nothing listens on: the MongoDB of this service is unreachable from the start.
        var environment = new Dictionary<string, string>(FleetProcesses.BusEnvironment(accounts.TopologyUri))
        {
            ["Mongo__ConnectionString"] = "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=1000",
        };
        var topology = _processes.Start("topology", "Topology", environment);
        var ready = await ReadyAddressAsync(topology);

        var body = await WaitForAsync(ready, HttpStatusCode.ServiceUnavailable, topology);
        var mongo = JsonDocument.Parse(body).RootElement.GetProperty("checks").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "mongodb");
        Assert.Equal("Unhealthy", mongo.GetProperty("status").GetString());

        var live = await _http.GetAsync(new Uri(ready, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _processes.DisposeAsync();
        await _broker.DisposeAsync();
    }

    private static async Task<Uri> ReadyAddressAsync(ServiceProcess service)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (true)
        {
            if (service.ListeningAddress() is { } address)
            {
                return new Uri(address, "/health/ready");
            }

            if (DateTime.UtcNow > deadline || service.HasExited)
            {
                throw new TimeoutException($"{service.Name} never listened\n{service.Tail()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Polls until the endpoint answers <paramref name="expected"/>; returns that answer's body.</summary>
    private async Task<string> WaitForAsync(Uri ready, HttpStatusCode expected, ServiceProcess service)
    {
        var deadline = DateTime.UtcNow + Generous;
        var last = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await _http.GetAsync(ready);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == expected)
                {
                    return body;
                }

                last = $"{(int)response.StatusCode} {body}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"/health/ready never answered {(int)expected} within {Generous}; last: {last}\n{service.Tail()}");
    }
}
