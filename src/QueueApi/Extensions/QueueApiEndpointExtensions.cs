using QueueApi.Bench;
using QueueApi.Health;
using QueueApi.Metrics;
using QueueApi.Queues;
using QueueApi.Shutdown;
using QueueApi.Workers;

namespace QueueApi.Extensions;

internal static class QueueApiEndpointExtensions
{
    /// <summary>Error handling as problem details, the API's routes, metrics, OpenAPI and Swagger UI.</summary>
    public static WebApplication MapQueueApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.MapQueues();
        app.MapWorkers();
        app.MapShutdown();
        app.MapQueueHealth();
        app.MapBenchWhenEnabled();
        app.MapQueueMetrics();

        app.MapOpenApi();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "QueueApi v1");
            o.DocumentTitle = "QueueApi";
            o.EnableTryItOutByDefault();
        });
        app.MapGet("/", () => TypedResults.Redirect("/swagger")).ExcludeFromDescription();
        return app;
    }
}
