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
            .WithSummary("Fault injection: the worker's loop throws, and the service winds down (chaos only)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAdminKey();

        group.MapPost("/{id}/hang", Hang)
            .WithName("HangWorker")
            .WithSummary("Fault injection: the worker blocks and ignores its token, so it becomes stuck (chaos only)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAdminKey();

        return app;
    }

    private static Results<Ok<WorkerView>, ProblemHttpResult> GetWorker(string id, QueueEngine engine) =>
        engine.TryGetWorker(id, out var w) ? TypedResults.Ok(WorkerView.From(w!)) : Problems.UnknownWorker(id);

    private static Results<Accepted<WorkerView>, ProblemHttpResult> Crash(string id, QueueEngine engine, IOptionsMonitor<QueueApiOptions> options) =>
        Inject(id, engine, options, engine.CrashWorker);

    private static Results<Accepted<WorkerView>, ProblemHttpResult> Hang(string id, QueueEngine engine, IOptionsMonitor<QueueApiOptions> options) =>
        Inject(id, engine, options, engine.HangWorker);

    private static Results<Accepted<WorkerView>, ProblemHttpResult> Inject(
        string id, QueueEngine engine, IOptionsMonitor<QueueApiOptions> options, Func<string, bool> inject)
    {
        if (!options.CurrentValue.Chaos.Enabled)
        {
            return Problems.Make(
                StatusCodes.Status404NotFound,
                "Fault injection is off",
                "Set QueueApi:Chaos:Enabled to true (it is on in appsettings.Development.json) to crash or hang workers on purpose.");
        }

        if (!engine.TryGetWorker(id, out var worker))
        {
            return Problems.UnknownWorker(id);
        }

        if (!inject(id))
        {
            return Problems.Make(StatusCodes.Status409Conflict, "Worker not running", $"Worker '{id}' has already stopped.");
        }

        return TypedResults.Accepted($"/workers/{id}", WorkerView.From(worker!));
    }
}
