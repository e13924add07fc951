using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Hosting;

namespace Treecast.Policy.Tests.Support;

/// <summary>
/// The policy service's web app as Program.cs builds it (service defaults, policy service, bus, every route) on real
/// Kestrel at a free loopback port, with the policies of <paramref name="policiesPath"/>.
/// </summary>
public sealed class PolicyApiHost : IAsyncDisposable
{
    private readonly Uri _address;

    private PolicyApiHost(WebApplication app, Uri address)
    {
        App = app;
        _address = address;
    }

    public WebApplication App { get; }

    public static async Task<PolicyApiHost> StartAsync(string policiesPath, IReadOnlyDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Policy:PoliciesPath"] = policiesPath;
        builder.Configuration["Policy:WatchForChanges"] = "false";
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.AddServiceDefaults();
        builder.AddPolicyService();
        builder.AddTreecastBus();
        var app = builder.Build();
        app.MapPolicyService();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PolicyApiHost(app, new Uri(address));
    }

    /// <summary>A client of the service; with <paramref name="apiKey"/>, every request carries it as a bearer token.</summary>
    public HttpClient Client(string? apiKey = null, HttpMessageHandler? handler = null)
    {
        var client = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = _address };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
