using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
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
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live"), ResponseWriter = WriteShort })
            .WithTags("Health").WithName("Liveness").WithSummary("Liveness: 200 while every worker lives, 503 once one faulted or is stuck");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = _ => true, ResponseWriter = WriteShort })
            .WithTags("Health").WithName("Readiness").WithSummary("Readiness: 200 while live and accepting messages");
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = _ => true, ResponseWriter = WriteFull })
            .WithTags("Health").WithName("HealthReport").WithSummary("Health report of every check, queue and worker");
        return app;
    }

    private static Task WriteShort(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "text/plain; charset=utf-8";
        var lines = report.Entries.Select(e => $"{e.Key}: {e.Value.Status} ({e.Value.Description})");
        return http.Response.WriteAsync($"{report.Status}\n{string.Join('\n', lines)}\n");
    }

    private static Task WriteFull(HttpContext http, HealthReport report)
    {
        var engine = http.RequestServices.GetRequiredService<QueueEngine>();
        var view = new HealthReportView(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description ?? "")),
            engine.State,
            engine.Queues.Select(QueueView.From).ToList(),
            engine.Workers.Select(WorkerView.From).ToList());
        http.Response.ContentType = "application/json; charset=utf-8";
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        return JsonSerializer.SerializeAsync(http.Response.Body, view, options.GetTypeInfo(typeof(HealthReportView)), http.RequestAborted);
    }
}
