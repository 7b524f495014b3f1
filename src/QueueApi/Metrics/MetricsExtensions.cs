using Microsoft.AspNetCore.Routing;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using QueueApi.Engine.Diagnostics;

namespace QueueApi.Metrics;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format, from the engine's <c>QueueApi</c> meter, through
/// OpenTelemetry's Prometheus exporter: the instruments stay plain System.Diagnostics.Metrics, so
/// <c>dotnet-counters</c> and any OTLP exporter read the same ones.
/// </summary>
internal static class MetricsExtensions
{
    public const string Path = "/metrics";

    public static IServiceCollection AddQueueMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(EngineMetrics.MeterName))
            .WithMetrics(metrics =>
            {
                metrics
                    .AddMeter(EngineMetrics.MeterName)
                    .AddPrometheusExporter(o =>
                    {
                        // The exporter caches a scrape for 300 ms by default; a scrape answers what is true now.
                        o.ScrapeResponseCacheDurationMilliseconds = 0;
                    });

                // OpenTelemetry listens to every meter of that name in the process. Keep only this host's
                // (made by its IMeterFactory): a second host in the process, as in the test suite, would
                // otherwise add its series to this one's scrape.
                ((IDeferredMeterProviderBuilder)metrics).Configure((sp, builder) =>
                {
                    var own = sp.GetRequiredService<IMeterFactory>();
                    builder.AddView(instrument =>
                        instrument.Meter.Name == EngineMetrics.MeterName && !ReferenceEquals(instrument.Meter.Scope, own)
                            ? MetricStreamConfiguration.Drop
                            : null);
                });
            });
        return services;
    }

    public static IEndpointRouteBuilder MapQueueMetrics(this IEndpointRouteBuilder app)
    {
        // The exporter maps every method; a scrape is a GET (HEAD for a probe), anything else gets 405.
        app.MapPrometheusScrapingEndpoint(Path).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        return app;
    }
}
