using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Api;

public sealed class PolicyEndpointsTests : IAsyncLifetime
{
    private const string OperatorKey = "0123456789abcdef-operator";

    private readonly TempPolicyDirectory _policies = new();
    private PolicyApiHost _host = null!;
    private HttpClient _client = null!;
    private HttpClient _anonymous = null!;

    public async Task InitializeAsync()
    {
        _policies.Write("policies.yaml", Yaml.Degraded);
        _host = await PolicyApiHost.StartAsync(_policies.Path, new Dictionary<string, string?> { ["Api:Keys:ops"] = OperatorKey });
        _client = _host.Client(OperatorKey);
        _anonymous = _host.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _anonymous.Dispose();
        await _host.DisposeAsync();
        _policies.Dispose();
    }

    [Fact]
    public async Task Lists_the_policies_in_force_with_their_file_and_hash()
    {
        using var policies = await GetJsonAsync("/policies");

        var policy = policies.RootElement.GetProperty("policies").EnumerateArray().Single();
        Assert.Equal("broadcast-on-degraded-host", policy.GetProperty("name").GetString());
        Assert.Equal("broadcast", policy.GetProperty("actions")[0].GetProperty("kind").GetString());
        Assert.Equal(3, policy.GetProperty("actions")[0].GetProperty("fanOut").GetInt32());
        var file = policies.RootElement.GetProperty("files").EnumerateArray().Single();
        Assert.Equal(file.GetProperty("sha256").GetString(), policy.GetProperty("source").GetProperty("sha256").GetString());
        Assert.Equal(64, file.GetProperty("sha256").GetString()!.Length);
    }

    [Fact]
    public async Task Validates_a_good_file()
    {
        using var response = await _client.PostAsync("/policies/validate", new StringContent(Yaml.Both, Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, body.RootElement.GetProperty("policies").GetArrayLength());
    }

    [Fact]
    public async Task Explains_what_is_wrong_with_a_bad_file()
    {
        var bad = Yaml.Degraded.Replace("- broadcast:", "- broadcst:", StringComparison.Ordinal);

        using var response = await _client.PostAsync("/policies/validate", new StringContent(bad, Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(
            "request:8:9: unknown action 'broadcst' (expected 'broadcast' or 'duplicateIfNotCompletedWithin')",
            body.RootElement.GetProperty("messages")[0].GetString());
    }

    [Fact]
    public async Task A_reload_of_a_bad_file_answers_the_errors_and_keeps_the_policies()
    {
        _policies.Write("policies.yaml", Yaml.Degraded.Replace("fanOut: 3", "fanOut: 70", StringComparison.Ordinal));

        using var response = await _client.PostAsync("/policies/reload", content: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'fanOut' is 70, outside 1..64", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var policies = await GetJsonAsync("/policies");
        Assert.Equal(3, policies.RootElement.GetProperty("policies")[0].GetProperty("actions")[0].GetProperty("fanOut").GetInt32());

        _policies.Write("policies.yaml", Yaml.Both);
        using var reloaded = await _client.PostAsync("/policies/reload", content: null);
        Assert.Equal(HttpStatusCode.OK, reloaded.StatusCode);
        using var after = await GetJsonAsync("/policies");
        Assert.Equal(2, after.RootElement.GetProperty("policies").GetArrayLength());
    }

    [Fact]
    public async Task A_reload_without_a_key_is_refused_with_401_and_changes_nothing()
    {
        _policies.Write("policies.yaml", Yaml.Both);

        using var response = await _anonymous.PostAsync("/policies/reload", content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("Authorization: Bearer", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var policies = await GetJsonAsync("/policies");
        Assert.Equal(1, policies.RootElement.GetProperty("policies").GetArrayLength());
    }

    [Fact]
    public async Task A_key_that_is_not_configured_is_refused_with_401()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/policies/validate")
        {
            Content = new StringContent(Yaml.Both, Encoding.UTF8, "application/yaml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey + "-guess");

        using var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Contains("not one of the service's Api:Keys", StringComparison.Ordinal), body);
    }

    [Fact]
    public async Task A_policy_file_over_the_limit_is_refused_with_413()
    {
        // As curl sends a large body: the length first, the bytes only once the server asks for them (it never does).
        // The client waits for the server's answer as long as the test allows: with HttpClient's 1 s a busy machine had it
        // send the body anyway, and the server's close after its 413 broke that send before the answer was read.
        using var patient = _host.Client(OperatorKey, new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(2) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/policies/validate") { Content = new ByteArrayContent(new byte[20 * 1024 * 1024]) };
        request.Headers.ExpectContinue = true;

        using var response = await patient.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than 1 MiB", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_without_a_length_is_refused_with_413()
    {
        var content = new StreamContent(new MemoryStream(new byte[2 * 1024 * 1024]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/policies/validate") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Reads_are_open_without_a_key()
    {
        using var response = await _anonymous.GetAsync("/policies");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<JsonDocument> GetJsonAsync(string path) =>
        JsonDocument.Parse(await _client.GetStringAsync(path));
}
