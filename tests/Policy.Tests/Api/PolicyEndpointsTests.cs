using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Hosting;
using Treecast.Policy.Api;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Api;

public sealed class PolicyEndpointsTests : IAsyncLifetime
{
    private readonly TempPolicyDirectory _policies = new();
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _policies.Write("policies.yaml", Yaml.Degraded);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Policy:PoliciesPath"] = _policies.Path;
        builder.Configuration["Policy:WatchForChanges"] = "false";
        builder.AddPolicyService();
        builder.AddTreecastBus();
        _app = builder.Build();
        _app.MapPolicyEndpoints();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
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

    private async Task<JsonDocument> GetJsonAsync(string path) =>
        JsonDocument.Parse(await _client.GetStringAsync(path));
}
