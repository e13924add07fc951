using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Treecast.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry for every service: metrics (ASP.NET Core, HttpClient, the runtime, MassTransit and the
/// <see cref="TreecastMetrics"/> meter) scraped at <c>/metrics</c> and, when an OTLP endpoint is configured, exported
/// there with traces (ASP.NET Core, the gRPC client, HttpClient, MassTransit, Treecast). Without an endpoint (or console
/// traces) no tracer is registered, so MassTransit starts no activity per message.
/// </summary>
public static class TelemetrySetup
{
    /// <summary>The OTLP endpoint (<c>Telemetry:OtlpEndpoint</c>, or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).</summary>
    public static Uri? OtlpEndpoint(IConfiguration configuration)
    {
        var (key, value) = configuration["Telemetry:OtlpEndpoint"] is { Length: > 0 } configured
            ? ("Telemetry:OtlpEndpoint", configured)
            : ("OTEL_EXPORTER_OTLP_ENDPOINT", configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "http" or "https"
            ? endpoint
            : throw new InvalidOperationException($"{key} '{value}' is not an http(s) address; set it to the OTLP collector, for example http://otel-collector:4317, or leave it unset");
    }

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        var otlp = OtlpEndpoint(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(InstrumentationOptions.MeterName)
                    .AddMeter(TreecastMetrics.Name)
                    .AddPrometheusExporter();
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = otlp);
                }
            });
        // Telemetry:ConsoleTraces=true writes every span to stdout: for a look without a collector, and for the test that
        // follows one operation's trace from the event to the last verified copy.
        var console = builder.Configuration.GetValue<bool>("Telemetry:ConsoleTraces");
        if (otlp is not null || console)
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation()
                    .AddGrpcClientInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddSource(DiagnosticHeaders.DefaultListenerName)
                    .AddSource(TreecastMetrics.Name);
                if (otlp is not null)
                {
                    tracing.AddOtlpExporter(o => o.Endpoint = otlp);
                }

                if (console)
                {
                    tracing.AddConsoleExporter();
                }
            });
        }

        return builder;
    }
}
