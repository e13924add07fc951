using System.Net;
using System.Net.Http.Headers;
using Treecast.Policy.Tests.Support;

namespace Treecast.Policy.Tests.Api;

/// <summary>With <c>Api:ProtectReads</c>, the read-only routes need a key too; health stays open for probes.</summary>
public sealed class ProtectedReadsTests : IAsyncLifetime
{
    private const string Key = "0123456789abcdef-reader";

    private readonly TempPolicyDirectory _policies = new();
    private PolicyApiHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _policies.Write("policies.yaml", Yaml.Degraded);
        _host = await PolicyApiHost.StartAsync(
            _policies.Path,
            new Dictionary<string, string?> { ["Api:Keys:dashboard"] = Key, ["Api:ProtectReads"] = "true" });
        _client = _host.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        _policies.Dispose();
    }

    [Theory]
    [InlineData("/policies")]
    [InlineData("/operations")]
    public async Task A_read_without_a_key_is_401_and_with_one_is_answered(string path)
    {
        using var refused = await _client.GetAsync(path);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var answered = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    [Fact]
    public async Task Health_stays_open()
    {
        using var live = await _client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
