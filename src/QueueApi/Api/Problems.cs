using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Api;

/// <summary>Every error the API gives, as RFC 9457 problem details that say what was wrong and what to do.</summary>
internal static class Problems
{
    public static ProblemHttpResult Make(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    public static ProblemHttpResult UnknownQueue(string queue, IEnumerable<string> known) => Make(
        StatusCodes.Status404NotFound,
        "Unknown queue",
        $"There is no queue named '{queue}'. Configured queues: {string.Join(", ", known)}. Queues are declared under QueueApi:Queues in configuration.");

    public static ProblemHttpResult UnknownMessage(string queue, string id) => Make(
        StatusCodes.Status404NotFound,
        "Unknown message",
        $"Queue '{queue}' has no message '{id}'. Only the last finished messages are kept (QueueApi:Queues:{queue}:RetainFinished).");

    public static ProblemHttpResult UnknownWorker(string id) => Make(
        StatusCodes.Status404NotFound,
        "Unknown worker",
        $"There is no worker '{id}'. GET /workers lists them.");

    public static ProblemHttpResult Full(HttpContext http, string queue, int capacity, int retryAfter) => RetryLater(
        http,
        retryAfter,
        StatusCodes.Status429TooManyRequests,
        "Queue full",
        $"Queue '{queue}' holds its capacity of {capacity} messages. Retry after {retryAfter} s, or raise QueueApi:Queues:{queue}:Capacity.");

    public static ProblemHttpResult ShuttingDown(HttpContext http, int retryAfter) => RetryLater(
        http,
        retryAfter,
        StatusCodes.Status503ServiceUnavailable,
        "Shutting down",
        $"The service is shutting down and accepts no new messages. Retry after {retryAfter} s against another instance.");

    public static ProblemHttpResult StorageUnavailable(HttpContext http, int retryAfter) => RetryLater(
        http,
        retryAfter,
        StatusCodes.Status503ServiceUnavailable,
        "Storage unavailable",
        $"The message store could not save the request, so nothing was stored. Retry after {retryAfter} s; GET /health/ready says when the store answers again.");

    /// <summary>The configured storage provider does not implement a feature the request asked for; nothing was stored.</summary>
    public static ProblemHttpResult NotSupported(string provider, string feature, string advice) => Make(
        StatusCodes.Status501NotImplemented,
        "Not supported by this storage",
        $"{feature} is not implemented by the {provider} store yet; nothing was stored or changed. {advice} The Memory store (QueueApi:Storage:Provider=Memory) has it.");

    /// <summary>A problem that tells the client, in a Retry-After header too, when to try again.</summary>
    private static ProblemHttpResult RetryLater(HttpContext http, int retryAfter, int status, string title, string detail)
    {
        http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Make(status, title, detail);
    }

    /// <summary>Why a known queue refused a message: full, shutting down, a reused idempotency key, or its store failed.</summary>
    public static ProblemHttpResult Refused(HttpContext http, EnqueueStatus status, WorkQueue queue, int retryAfter) => status switch
    {
        EnqueueStatus.KeyConflict => Make(
            StatusCodes.Status422UnprocessableEntity,
            "Idempotency key reused",
            $"This Idempotency-Key was used on queue '{queue.Name}' within the last {queue.Options.IdempotencyWindow} for a different body. Nothing was stored. Use a new key for a new message, or send the same body to get the first message back."),
        EnqueueStatus.Full => Full(http, queue.Name, queue.Options.Capacity, retryAfter),
        EnqueueStatus.StorageUnavailable => StorageUnavailable(http, retryAfter),
        _ => ShuttingDown(http, retryAfter),
    };
}
