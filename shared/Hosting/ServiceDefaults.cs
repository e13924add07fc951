using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Treecast.Hosting.Telemetry;

namespace Treecast.Hosting;

/// <summary>
/// Hosting defaults every Treecast service shares: one-line (or JSON, <c>Logging:Format=json</c>) console logs, the clock,
/// health endpoints, and metrics at <c>/metrics</c> (<see cref="TelemetrySetup"/>).
/// </summary>
public static class ServiceDefaults
{
    /// <summary>The tag of the checks <c>/health/ready</c> runs: MassTransit's bus check carries it, as does MongoDB's.</summary>
    public const string ReadyTag = "ready";

    /// <param name="describeHttpApi">
    /// Describe the service's HTTP API at <c>/openapi/v1.json</c> (OpenAPI loads MVC's API explorer). False for a service
    /// whose only routes are these defaults' (the agent); <see cref="MapServiceDefaults"/> then maps no description.
    /// </param>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, bool describeHttpApi = true)
    {
        builder.Logging.ClearProviders();
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            // One JSON object per line for log shippers; scopes carry the operation id where a consumer opened one.
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        // Every failed probe would log the bus's whole exception chain; the probe's answer already says why.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Error);
        // The one clock of the process; TryAdd keeps a fake clock a test registered first.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHealthChecks();
        builder.AddTelemetry();
        if (describeHttpApi)
        {
            // The HTTP API's description at /openapi/v1.json, generated from the routes themselves.
            builder.Services.AddOpenApi();
            builder.Services.AddSingleton<HttpApiDescribed>();
        }

        return builder;
    }

    /// <summary>
    /// <c>/health/live</c> answers while the process runs; <c>/health/ready</c> answers 200 only while every check
    /// tagged <see cref="ReadyTag"/> is healthy: the bus is connected (MassTransit reports a lost broker as degraded,
    /// which must not pass) and, where it is the store, MongoDB answers. Both answer JSON naming each check.
    /// </summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        if (app.Services.GetService<HttpApiDescribed>() is not null)
        {
            app.MapOpenApi();
        }

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJson });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteJson,
        });
        return app;
    }

    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }

    /// <summary>Registered when <see cref="AddServiceDefaults"/> described the HTTP API, so mapping follows what was added.</summary>
    private sealed class HttpApiDescribed;
}
