using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;

namespace QueueApi.Workers;

/// <summary>The live view of every worker thread, and fault injection when chaos is on.</summary>
internal static class WorkerEndpoints
{
    public static IEndpointRouteBuilder MapWorkers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/workers").WithTags("Workers");

        group.MapGet("/", (QueueEngine engine) => TypedResults.Ok<IReadOnlyList<WorkerView>>(engine.Workers.Select(WorkerView.From).ToList()))
            .WithName("ListWorkers")
            .WithSummary("Every worker thread: state, current message, counts, fault");

        group.MapGet("/{id}", GetWorker)
            .WithName("GetWorker")
            .WithSummary("One worker thread")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{id}/crash", Crash)
            .WithName("CrashWorker")
            .WithSummary("Fault injection: asks the worker's loop to throw, so the service winds down (chaos only); 202 acknowledges the request, GET the Location to watch the worker fault")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAdminKey();

        group.MapPost("/{id}/hang", Hang)
            .WithName("HangWorker")
            .WithSummary("Fault injection: asks the worker to block and ignore its token, so it becomes stuck (chaos only); 202 acknowledges the request")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAdminKey();

        return app;
    }

    private static Results<Ok<WorkerView>, ProblemHttpResult> GetWorker(string id, QueueEngine engine) =>
        engine.TryGetWorker(id, out var w) ? TypedResults.Ok(WorkerView.From(w!)) : Problems.UnknownWorker(id);

    private static Results<Accepted<FaultRequested>, ProblemHttpResult> Crash(string id, QueueEngine engine, IOptionsMonitor<QueueApiOptions> options, TimeProvider time) =>
        Inject(id, "crash", engine, options, time, engine.CrashWorker);

    private static Results<Accepted<FaultRequested>, ProblemHttpResult> Hang(string id, QueueEngine engine, IOptionsMonitor<QueueApiOptions> options, TimeProvider time) =>
        Inject(id, "hang", engine, options, time, engine.HangWorker);

    private static Results<Accepted<FaultRequested>, ProblemHttpResult> Inject(
        string id, string fault, QueueEngine engine, IOptionsMonitor<QueueApiOptions> options, TimeProvider time, Func<string, bool> inject)
    {
        if (!options.CurrentValue.Chaos.Enabled)
        {
            return Problems.Make(
                StatusCodes.Status404NotFound,
                "Fault injection is off",
                "Set QueueApi:Chaos:Enabled to true (it is on in appsettings.Development.json) to crash or hang workers on purpose.");
        }

        if (!engine.TryGetWorker(id, out _))
        {
            return Problems.UnknownWorker(id);
        }

        if (!inject(id))
        {
            return Problems.Make(StatusCodes.Status409Conflict, "Worker not running", $"Worker '{id}' has already stopped.");
        }

        // The request, not the worker: its state changes only when it next looks, so a view now would still say
        // alive and well. GET the Location to watch it fault (or hang).
        var location = $"/workers/{id}";
        return TypedResults.Accepted(location, new FaultRequested(id, fault, time.GetUtcNow(), location));
    }
}
