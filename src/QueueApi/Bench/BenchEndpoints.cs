using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using QueueApi.Api;

namespace QueueApi.Bench;

/// <summary>
/// Benchmark-only routes, mapped only when <c>QueueApi:Api:BenchmarkEndpoints</c> is true: the limit that
/// the enqueue endpoints are measured against.
/// </summary>
internal static class BenchEndpoints
{
    public static IEndpointRouteBuilder MapBenchWhenEnabled(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.BenchmarkEndpoints)
        {
            return app;
        }

        app.MapPost("/bench/echo", Echo)
            .WithName("BenchEcho")
            .WithSummary("Benchmark only: reads the body and answers 202, with no queue behind it")
            .WithTags("Benchmark");
        return app;
    }

    /// <summary>Reads the whole body, as the enqueue endpoint must, and does nothing else.</summary>
    private static async Task<Accepted> Echo(HttpRequest request)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return TypedResults.Accepted((string?)null);
            }
        }
    }
}
