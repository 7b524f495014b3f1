using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Hosting;

namespace QueueApi.Shutdown;

/// <summary>Stop the pool and then the host, and read the account of the stop.</summary>
internal static class ShutdownEndpoints
{
    public static IEndpointRouteBuilder MapShutdown(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/shutdown").WithTags("Shutdown");

        group.MapPost("/", Shutdown)
            .WithName("Shutdown")
            .WithSummary("Shut the worker pool down (drain or immediate), then the host; the process exits 0")
            .Accepts<ShutdownRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAdminKey();

        group.MapGet("/report", Report)
            .WithName("GetShutdownReport")
            .WithSummary("The shutdown report: why, the first failure, what became of every message, phase timings")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    private static async Task<Results<Accepted<ShutdownAccepted>, ProblemHttpResult>> Shutdown(
        HttpContext http, QueueEngine engine, IHostStopper host)
    {
        var mode = engine.Options.Shutdown.DefaultMode;
        // The body is optional; when present it must be {"mode": "drain" | "immediate"}.
        // A chunked body has no length but is a body all the same: read and check it too.
        if (http.Request.ContentLength is > 0 || (http.Request.ContentLength is null && (http.Request.ContentType is not null || http.Request.Headers.TransferEncoding.Count > 0)))
        {
            var (body, problem) = await JsonBody.ReadAsync(http.Request, 4096).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (ShutdownRequestReader.Read(body!, ref mode) is { } invalid)
            {
                return invalid;
            }
        }

        var ticket = engine.RequestStop(mode);
        // The host's stop runs the engine's wind-down first (StoppingAsync), so this answer still goes out.
        host.StopHost();
        return TypedResults.Accepted("/shutdown/report", ticket);
    }

    private static Results<Ok<ShutdownReport>, ProblemHttpResult> Report(QueueEngine engine) =>
        engine.Report() is { } report
            ? TypedResults.Ok(report)
            : Problems.Make(StatusCodes.Status404NotFound, "No shutdown yet", "The service is running; a report appears once a stop begins (POST /shutdown, SIGTERM, or a worker failure).");
}
