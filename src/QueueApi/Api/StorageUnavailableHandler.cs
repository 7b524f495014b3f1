using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Storage;

namespace QueueApi.Api;

/// <summary>
/// A read or an operator action that found the store away (a shared database restarting) answers 503 with
/// Retry-After and a problem body, never a 500: the request was fine, the store was not there.
/// </summary>
internal sealed class StorageUnavailableHandler(IOptions<ApiOptions> options, IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not StorageUnavailableException)
        {
            return false;
        }

        var retryAfter = options.Value.RetryAfterSeconds;
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Storage unavailable",
                Detail = $"The message store cannot be reached, so this could not be read or changed. Retry after {retryAfter} s; GET /health/ready says when the store answers again.",
            },
        }).ConfigureAwait(false);
    }
}
