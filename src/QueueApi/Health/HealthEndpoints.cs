using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using QueueApi.Api;
using QueueApi.Engine;

namespace QueueApi.Health;

/// <summary>Liveness: every worker thread alive, none faulted, none stuck.</summary>
internal sealed class WorkersLiveCheck(QueueEngine engine) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(engine.IsLive(out var why) ? HealthCheckResult.Healthy(why) : HealthCheckResult.Unhealthy(why));
}

/// <summary>Readiness: live, and accepting messages.</summary>
internal sealed class AcceptingReadyCheck(QueueEngine engine) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(engine.IsReady(out var why) ? HealthCheckResult.Healthy(why) : HealthCheckResult.Unhealthy(why));
}

internal static class HealthEndpoints
{
    public static IServiceCollection AddQueueHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<WorkersLiveCheck>("workers", tags: ["live"])
            .AddCheck<AcceptingReadyCheck>("accepting", tags: ["ready"]);
        return services;
    }

    public static IEndpointRouteBuilder MapQueueHealth(this IEndpointRouteBuilder app)
    {
        // Route handlers over the framework's HealthCheckService (not MapHealthChecks) so the probes appear in OpenAPI.
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/live", (HealthCheckService health, HttpContext http) => ProbeAsync(health, http, c => c.Tags.Contains("live")))
            .WithName("Liveness")
            .WithSummary("Liveness: 200 while every worker lives, 503 once one faulted or is stuck")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<string>(StatusCodes.Status503ServiceUnavailable, "text/plain");
        group.MapGet("/ready", (HealthCheckService health, HttpContext http) => ProbeAsync(health, http, _ => true))
            .WithName("Readiness")
            .WithSummary("Readiness: 200 while live and accepting messages, 503 otherwise")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<string>(StatusCodes.Status503ServiceUnavailable, "text/plain");
        group.MapGet("/", async (HealthCheckService health, HttpContext http) =>
            {
                var report = await health.CheckHealthAsync(http.RequestAborted).ConfigureAwait(false);
                http.Response.StatusCode = report.Status == HealthStatus.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
                NoCache(http);
                await WriteFull(http, report).ConfigureAwait(false);
            })
            .WithName("HealthReport")
            .WithSummary("Health report of every check, queue and worker")
            .Produces<HealthReportView>(StatusCodes.Status200OK)
            .Produces<HealthReportView>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task ProbeAsync(HealthCheckService health, HttpContext http, Func<HealthCheckRegistration, bool> predicate)
    {
        var report = await health.CheckHealthAsync(predicate, http.RequestAborted).ConfigureAwait(false);
        http.Response.StatusCode = report.Status == HealthStatus.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        NoCache(http);
        http.Response.ContentType = "text/plain; charset=utf-8";
        var lines = report.Entries.Select(e => $"{e.Key}: {e.Value.Status} ({e.Value.Description})");
        await http.Response.WriteAsync($"{report.Status}\n{string.Join('\n', lines)}\n", http.RequestAborted).ConfigureAwait(false);
    }

    private static void NoCache(HttpContext http) => http.Response.Headers.CacheControl = "no-store, no-cache";

    private static async Task WriteFull(HttpContext http, HealthReport report)
    {
        var engine = http.RequestServices.GetRequiredService<QueueEngine>();
        var nodes = await Nodes.NodeEndpoints.TryListAsync(http.RequestServices, engine, http.RequestAborted).ConfigureAwait(false);
        var view = new HealthReportView(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description ?? "")),
            engine.State,
            engine.Queues.Select(QueueView.From).ToList(),
            engine.Workers.Select(WorkerView.From).ToList(),
            nodes);
        http.Response.ContentType = "application/json; charset=utf-8";
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        await JsonSerializer.SerializeAsync(http.Response.Body, view, options.GetTypeInfo(typeof(HealthReportView)), http.RequestAborted).ConfigureAwait(false);
    }
}
