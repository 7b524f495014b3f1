using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Extensions;

namespace QueueApi.Benchmarks;

/// <summary>
/// The service as the product starts it, plus <c>POST /bench/echo</c>: a bare route that reads the body to the end
/// and answers 202, the limit the enqueue routes are measured against. Lives here so the product has no
/// benchmark-only routes or settings.
/// </summary>
internal static class IngressHost
{
    public static int Run(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddQueueApi();
        var app = builder.Build();
        app.MapPost("/bench/echo", Echo).ExcludeFromDescription();
        app.MapQueueApi();
        app.Run();
        return Environment.ExitCode;
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
