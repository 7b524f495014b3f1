using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Queues;

namespace QueueApi.Queues;

/// <summary>
/// Freeze everything: pause every queue at once, so the state holds still while you look, and resume them all.
/// Each queue gets the same <see cref="WorkQueue.Pause"/> / <see cref="WorkQueue.Resume"/> as its own route.
/// </summary>
internal static class FreezeEndpoints
{
    public static IEndpointRouteBuilder MapFreeze(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/queues").WithTags("Queues");

        group.MapPost("/pause-all", (QueueEngine engine) => ApplyToAll(engine, static q => q.Pause()))
            .WithName("PauseAllQueues")
            .WithSummary("Freeze everything: pause every queue (they keep accepting; their workers take nothing new)")
            .RequireAdminKey();

        group.MapPost("/resume-all", (QueueEngine engine) => ApplyToAll(engine, static q => q.Resume()))
            .WithName("ResumeAllQueues")
            .WithSummary("Resume every queue")
            .RequireAdminKey();

        return app;
    }

    private static Ok<IReadOnlyList<QueueView>> ApplyToAll(QueueEngine engine, Action<WorkQueue> action)
    {
        foreach (var q in engine.Queues)
        {
            action(q);
        }

        return TypedResults.Ok<IReadOnlyList<QueueView>>(engine.Queues.Select(QueueView.From).ToList());
    }
}
