using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
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
        HttpContext http, QueueEngine engine, IHostStopper host, IOptions<JsonOptions> json)
    {
        var mode = engine.Options.Shutdown.DefaultMode;
        // The body is optional; when present it must be {"mode": "drain" | "immediate"}.
        if (http.Request.ContentLength is not 0 && (http.Request.ContentLength is > 0 || http.Request.ContentType is not null))
        {
            var (body, problem) = await JsonBody.ReadAsync(http.Request, 4096).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (!TryParseMode(body!, json.Value.SerializerOptions, ref mode))
            {
                return Problems.Make(
                    StatusCodes.Status400BadRequest,
                    "Invalid shutdown request",
                    "Send {\"mode\": \"drain\"} to finish queued work before the deadline, or {\"mode\": \"immediate\"} to stop after the messages in flight; or send no body for the default mode.");
            }
        }

        var ticket = engine.RequestStop(mode);
        // The host's stop runs the engine's wind-down first (StoppingAsync), so this answer still goes out.
        host.StopHost();
        return TypedResults.Accepted("/shutdown/report", new ShutdownAccepted(ticket.Mode, ticket.AlreadyStopping, ticket.Queued, ticket.InFlight, ticket.Deadline));
    }

    private static bool TryParseMode(byte[] body, JsonSerializerOptions options, ref ShutdownMode mode)
    {
        try
        {
            // The API's own options: they read enum names as "drain" or "immediate".
            var request = (ShutdownRequest?)JsonSerializer.Deserialize(body, options.GetTypeInfo(typeof(ShutdownRequest)));
            if (request?.Mode is { } m)
            {
                mode = m;
            }

            return request is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Results<Ok<ShutdownReport>, ProblemHttpResult> Report(QueueEngine engine) =>
        engine.Report() is { } report
            ? TypedResults.Ok(report)
            : Problems.Make(StatusCodes.Status404NotFound, "No shutdown yet", "The service is running; a report appears once a stop begins (POST /shutdown, SIGTERM, or a worker failure).");
}
