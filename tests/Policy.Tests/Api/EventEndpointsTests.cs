using System.Net;
using System.Text;
using System.Text.Json;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Api;

/// <summary>
/// Events over HTTP reach the same decision as events from the exchange: the policy service's web app with its in-memory
/// bus, the real consumer and saga; an operation in <c>GET /operations</c> is the outcome.
/// </summary>
public sealed class EventEndpointsTests : IAsyncLifetime
{
    private const string OperatorKey = "0123456789abcdef-operator";

    private readonly TempPolicyDirectory _policies = new();
    private PolicyApiHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _policies.Write("policies.yaml", Yaml.Degraded);
        _host = await PolicyApiHost.StartAsync(_policies.Path, new Dictionary<string, string?> { ["Api:Keys:ops"] = OperatorKey });
        _client = _host.Client(OperatorKey);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        _policies.Dispose();
    }

    [Fact]
    public async Task Starts_the_broadcast_its_policy_names_for_a_posted_event()
    {
        using var response = await PostAsync("/events", """{"type":"host.degraded","eventId":"mon-1","vmm":"host-05","severity":"critical"}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var operation = await OperationsRootedAtAsync("host-05", count: 1);
        Assert.Equal("broadcast-on-degraded-host", await PolicyOfAsync(operation[0]));
    }

    [Fact]
    public async Task Refuses_a_malformed_event_naming_the_field()
    {
        using var response = await PostAsync("/events", """{"type":"host.degraded","severity":"critical"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("has no 'vmm'", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refuses_an_event_without_an_api_key()
    {
        using var anonymous = _host.Client();
        using var response = await anonymous.PostAsync("/events", Json("""{"type":"host.degraded","vmm":"host-05"}"""));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Makes_one_event_of_a_firing_and_another_of_its_refiring()
    {
        var first = await PostAlertAsync("2026-11-29T10:00:00Z", "firing");
        var repeat = await PostAlertAsync("2026-11-29T10:00:00Z", "firing");
        var refired = await PostAlertAsync("2026-11-29T11:30:00Z", "firing");
        var resolved = await PostAlertAsync("2026-11-29T11:30:00Z", "resolved");

        Assert.Equal(first.Id, repeat.Id);
        Assert.NotEqual(first.Id, refired.Id);
        Assert.Null(resolved.Id);
        Assert.Contains("status 'resolved'", resolved.Skipped);
        var operations = await OperationsRootedAtAsync("host-07", count: 2);
        foreach (var operation in operations)
        {
            Assert.Equal("broadcast-on-degraded-host", await PolicyOfAsync(operation));
        }
    }

    [Fact]
    public async Task Reports_an_alert_without_the_event_label_as_skipped()
    {
        using var response = await PostAsync("/events/alertmanager", """
            {"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"DiskFull","instance":"host-09:9100"},
             "startsAt":"2026-11-29T10:00:00Z","fingerprint":"ab12"}]}
            """);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Empty(body.RootElement.GetProperty("accepted").EnumerateArray());
        Assert.Contains("no 'treecast_event' label", body.RootElement.GetProperty("skipped")[0].GetString());
    }

    [Fact]
    public async Task Lists_an_event_no_policy_matched_and_counts_events_in_its_metrics()
    {
        using var response = await PostAsync("/events", """{"type":"host.degraded","eventId":"minor-1","vmm":"host-11","severity":"minor"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var recent = JsonDocument.Parse(await _client.GetStringAsync("/events/recent", limit.Token));
            var unmatched = recent.RootElement.GetProperty("unmatched").EnumerateArray().ToList();
            if (unmatched.Any(e => e.GetProperty("eventId").GetString() == "minor-1"))
            {
                Assert.True(recent.RootElement.GetProperty("unmatchedTotal").GetInt64() >= 1);
                Assert.Equal("host-11", unmatched.First(e => e.GetProperty("eventId").GetString() == "minor-1").GetProperty("vmm").GetString());
                break;
            }

            await Task.Delay(100, limit.Token);
        }

        var metrics = await _client.GetStringAsync("/metrics", limit.Token);
        Assert.Contains("treecast_events_received_total{", metrics);
        Assert.Contains("type=\"host.degraded\"", metrics);
    }

    [Fact]
    public async Task Describes_every_route_in_its_openapi_document()
    {
        using var document = JsonDocument.Parse(await _client.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Superset(
            new HashSet<string> { "/events", "/events/alertmanager", "/operations", "/operations/{id}", "/operations/{id}/cancel", "/policies", "/policies/validate", "/policies/reload", "/operations/stream", "/events/recent" },
            paths.ToHashSet());
    }

    private async Task<(string? Id, string Skipped)> PostAlertAsync(string startsAt, string status)
    {
        using var response = await PostAsync("/events/alertmanager", $$"""
            {"version":"4","groupKey":"{}:{alertname=\"HostDegraded\"}","status":"{{status}}","receiver":"treecast",
             "alerts":[{"status":"{{status}}","labels":{"alertname":"HostDegraded","treecast_event":"host.degraded",
               "instance":"host-07:9100","severity":"critical","rack":"r7"},"annotations":{"summary":"ECC errors"},
               "startsAt":"{{startsAt}}","endsAt":"0001-01-01T00:00:00Z","fingerprint":"c0ffee12"}]}
            """);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var accepted = body.RootElement.GetProperty("accepted");
        Assert.Equal(status == "firing" ? "host-07" : null, accepted.GetArrayLength() == 1 ? accepted[0].GetProperty("vmm").GetString() : null);
        return (
            accepted.GetArrayLength() == 1 ? accepted[0].GetProperty("eventId").GetString() : null,
            string.Join('\n', body.RootElement.GetProperty("skipped").EnumerateArray().Select(s => s.GetString())));
    }

    /// <summary>Waits, generously, for exactly <paramref name="count"/> operations rooted at <paramref name="vmm"/>; fails on more.</summary>
    private async Task<JsonElement[]> OperationsRootedAtAsync(string vmm, int count)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var document = JsonDocument.Parse(await _client.GetStringAsync($"/operations?root={vmm}", limit.Token));
            var found = document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
            Assert.True(found.Length <= count, $"{found.Length} operations rooted at {vmm}, expected {count}");
            if (found.Length == count)
            {
                return found;
            }

            await Task.Delay(100, limit.Token);
        }
    }

    private async Task<string?> PolicyOfAsync(JsonElement summary)
    {
        using var detail = JsonDocument.Parse(await _client.GetStringAsync($"/operations/{summary.GetProperty("id").GetString()}"));
        return detail.RootElement.GetProperty("policyName").GetString();
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json) => _client.PostAsync(path, Json(json));

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
