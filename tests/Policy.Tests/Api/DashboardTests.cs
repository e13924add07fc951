using System.Net;
using System.Text;
using Treecast.Policy.Tests.Support;
using Treecast.TestSupport.Browser;

namespace Treecast.Policy.Tests.Api;

/// <summary>
/// The dashboard in a real browser (headless chromium) against the policy service's web app: an operation started by a
/// posted event appears in the list, its page shows the state, the root in the tree and the history, live, and the
/// Cancel button with the API key cancels it.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string OperatorKey = "0123456789abcdef-operator";

    private readonly TempPolicyDirectory _policies = new();
    private PolicyApiHost _host = null!;

    public async Task InitializeAsync()
    {
        _policies.Write("policies.yaml", Yaml.Degraded);
        _host = await PolicyApiHost.StartAsync(_policies.Path, new Dictionary<string, string?> { ["Api:Keys:ops"] = OperatorKey });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _policies.Dispose();
    }

    [SkippableFact]
    public async Task Shows_an_operation_live_and_cancels_it_from_the_button()
    {
        var unavailable = HeadlessChromium.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        using var client = _host.Client(OperatorKey);
        using var posted = await client.PostAsync("/events", new StringContent(
            """{"type":"host.degraded","eventId":"dash-1","vmm":"host-03","severity":"critical"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(new Uri(client.BaseAddress!, "/dashboard").ToString());
        var row = "document.querySelector('tr.op')";
        await browser.WaitForAsync($"{row} && {row}.innerText.includes('host-03')", TimeSpan.FromSeconds(60));

        await browser.EvaluateAsync($"{row}.click()");
        await browser.WaitForAsync("document.getElementById('state')", TimeSpan.FromSeconds(60));
        Assert.Equal("host-03", (await browser.EvaluateAsync("document.querySelector('g.vmm').dataset.vmm"))!.GetValue<string>());
        Assert.Equal("root", (await browser.EvaluateAsync("document.querySelector('g.vmm').dataset.state"))!.GetValue<string>());
        Assert.Contains("broadcast-on-degraded-host", (await browser.EvaluateAsync("document.body.innerText"))!.GetValue<string>());

        // Without the key the button says what it needs; with it, the operation goes to Cancelling on the page itself.
        await browser.EvaluateAsync("document.getElementById('cancel').click()");
        await browser.WaitForAsync("document.getElementById('message').innerText.includes('needs the API key')", TimeSpan.FromSeconds(30));
        await browser.EvaluateAsync($"keyInput.value = '{OperatorKey}'; keyInput.dispatchEvent(new Event('change'))");
        await browser.WaitForAsync("document.getElementById('cancel')", TimeSpan.FromSeconds(30));
        await browser.EvaluateAsync("document.getElementById('cancel').click()");
        await browser.WaitForAsync("['Cancelling', 'Cancelled'].includes(document.getElementById('state')?.innerText)", TimeSpan.FromSeconds(60));
        Assert.Contains("Cancel", (await browser.EvaluateAsync("document.querySelector('table.history').innerText"))!.GetValue<string>());
    }
}
