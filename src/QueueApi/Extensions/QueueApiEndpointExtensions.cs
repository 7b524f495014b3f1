using QueueApi.Dashboard;
using QueueApi.Health;
using QueueApi.Metrics;
using QueueApi.Nodes;
using QueueApi.Queues;
using QueueApi.Schedules;
using QueueApi.Shutdown;
using QueueApi.Workers;

namespace QueueApi.Extensions;

internal static class QueueApiEndpointExtensions
{
    /// <summary>Error handling as problem details, the API's routes, metrics, the dashboard, OpenAPI and Swagger UI.</summary>
    public static WebApplication MapQueueApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A request the framework could not bind (a bad query value, say) is the client's fault: its 400, not a
            // 500, and not logged as an error of ours.
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages();

        app.MapQueues();
        app.MapFreeze();
        app.MapWorkers();
        app.MapSchedules();
        app.MapShutdown();
        app.MapNodes();
        app.MapQueueHealth();
        app.MapQueueMetrics();
        app.MapDashboard();

        app.MapOpenApi();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "QueueApi v1");
            o.DocumentTitle = "QueueApi";
            o.EnableTryItOutByDefault();
        });
        return app;
    }
}
