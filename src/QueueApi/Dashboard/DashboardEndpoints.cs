using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;
using QueueApi.Engine;

namespace QueueApi.Dashboard;

/// <summary>The live dashboard: the page and its files, a JSON snapshot, and the snapshot as a stream of server-sent events.</summary>
internal static class DashboardEndpoints
{
    /// <summary>How often the stream sends a snapshot.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>The most events one stream may be asked for with <c>count</c> (a day at one a second).</summary>
    public const int MaxCount = 86_400;

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Redirect("/dashboard")).ExcludeFromDescription();

        var group = app.MapGroup("/dashboard").WithTags("Dashboard").AddEndpointFilter<DashboardHeadersFilter>();

        group.MapGet("/", (DashboardAssets assets) => File(assets, "index.html")).ExcludeFromDescription();
        group.MapGet("/assets/{name}", (string name, DashboardAssets assets) => File(assets, name)).ExcludeFromDescription();

        group.MapGet("/snapshot", (SnapshotBuilder builder) => TypedResults.Ok(builder.Build()))
            .WithName("GetDashboardSnapshot")
            .WithSummary("Everything the dashboard shows, once: queues with rates, workers, failures, dead letters, throughput history, shutdown report");

        group.MapGet("/events", Events)
            .WithName("StreamDashboardEvents")
            .WithSummary("The dashboard snapshot as server-sent events, one a second; the stream ends when the service stops")
            .WithDescription(
                "text/event-stream. Each `snapshot` event's data is a DashboardSnapshot (the same JSON as GET /dashboard/snapshot). " +
                "When a stop begins the stream sends one `stopping` event, whose snapshot carries the shutdown report so far, and ends; " +
                "poll GET /dashboard/snapshot from then on. `count` ends the stream after that many events (for curl and tests).")
            .Produces<DashboardSnapshot>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return app;
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> File(DashboardAssets assets, string name) =>
        assets.TryGet(name, out var asset)
            ? TypedResults.Bytes(asset.Bytes, asset.ContentType, entityTag: asset.ETag)
            : Problems.Make(StatusCodes.Status404NotFound, "Unknown dashboard file", $"The dashboard has no file '{name}'. Open /dashboard.");

    private static Results<ServerSentEventsResult<DashboardSnapshot>, ProblemHttpResult> Events(
        int? count, SnapshotBuilder builder, QueueEngine engine, IHostApplicationLifetime lifetime, TimeProvider time, HttpContext http)
    {
        if (count is < 1 or > MaxCount)
        {
            return Problems.Make(
                StatusCodes.Status400BadRequest,
                "Invalid count",
                $"count is how many events to send before the stream ends: 1 to {MaxCount}. Leave it out to stream until the service stops.");
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested || engine.State != EngineState.Running)
        {
            // A problem, not an empty stream: an EventSource gives up on an error answer instead of reconnecting.
            return Problems.Make(
                StatusCodes.Status503ServiceUnavailable,
                "Service stopping",
                "The service is stopping, so there is no live stream. GET /dashboard/snapshot shows the shutdown report as it forms.");
        }

        // A reverse proxy (ingress-nginx) would otherwise buffer the stream and deliver it in lumps.
        http.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(Stream(builder, count, time, lifetime.ApplicationStopping, engine.ShutdownToken, http.RequestAborted));
    }

    /// <summary>
    /// A snapshot at once, then one a second. Each wait is bounded by the interval and ends early when the client
    /// goes, the host stops or the engine's shutdown token fires; a stop sends a last <c>stopping</c> event and ends.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<DashboardSnapshot>> Stream(
        SnapshotBuilder builder, int? count, TimeProvider time, CancellationToken hostStopping, CancellationToken engineShutdown,
        CancellationToken aborted, [EnumeratorCancellation] CancellationToken enumeration = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(hostStopping, engineShutdown, aborted, enumeration);
        using var timer = new PeriodicTimer(Interval, time);
        var sent = 0;
        while (!aborted.IsCancellationRequested && !enumeration.IsCancellationRequested)
        {
            var snapshot = builder.Build();
            var ending = stop.IsCancellationRequested || snapshot.Engine.State != EngineState.Running;
            yield return new SseItem<DashboardSnapshot>(snapshot, ending ? "stopping" : "snapshot");
            if (ending || ++sent == count)
            {
                yield break;
            }

            try
            {
                await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping or gone: the loop sends the last event, or ends when the client left.
            }
        }
    }
}

/// <summary>
/// The dashboard's security headers: scripts and styles only from this origin (no inline ones), requests only
/// to this origin, never in a frame, no content sniffing, no referrer.
/// </summary>
internal sealed class DashboardHeadersFilter : IEndpointFilter
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Live data and files that change with each build: always revalidate (the files answer 304 by ETag).
        headers.CacheControl = "no-cache";
        return next(context);
    }
}
