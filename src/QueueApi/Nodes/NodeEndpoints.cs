using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Storage.Postgres;

namespace QueueApi.Nodes;

/// <summary>The replicas sharing this service's queues: each one's heartbeat, whether it lives, and its workers.</summary>
internal static class NodeEndpoints
{
    public static IEndpointRouteBuilder MapNodes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/nodes", ListAsync)
            .WithTags("Nodes")
            .WithName("ListNodes")
            .WithSummary("Every replica on the shared store, with its last heartbeat, alive or not, and its workers; this process alone on a local store")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>The replicas, or null when the shared store cannot be asked now.</summary>
    public static async Task<IReadOnlyList<NodeInfo>?> TryListAsync(IServiceProvider services, QueueEngine engine, CancellationToken cancellationToken)
    {
        if (services.GetService<INodeDirectory>() is not { } directory)
        {
            return [Local(engine)];
        }

        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(TimeSpan.FromSeconds(3));
            return await directory.NodesAsync(bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return null;
        }
    }

    private static async Task<Results<Ok<IReadOnlyList<NodeInfo>>, ProblemHttpResult>> ListAsync(
        HttpContext http, QueueEngine engine, Microsoft.Extensions.Options.IOptions<ApiOptions> options)
    {
        var nodes = await TryListAsync(http.RequestServices, engine, http.RequestAborted).ConfigureAwait(false);
        return nodes is null
            ? Problems.StorageUnavailable(http, options.Value.RetryAfterSeconds)
            : TypedResults.Ok(nodes);
    }

    /// <summary>A store that no other process shares has one node: this one.</summary>
    private static NodeInfo Local(QueueEngine engine)
    {
        using var self = Process.GetCurrentProcess();
        return new NodeInfo(
            "local", Environment.MachineName, Environment.ProcessId, new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero),
            DateTimeOffset.UtcNow, null, true, true, engine.Workers.Select(w => w.Id).ToList());
    }
}
