using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Queues;

/// <summary>Enqueue, look up messages and queues, pause and resume, and manage dead letters.</summary>
internal static class QueueEndpoints
{
    private const string DelayDoc = "Run no sooner than this many seconds from now (a decimal number, up to 30 days); the message is 'scheduled' until then. Not with notBefore.";
    private const string KeyDoc = "A key (1-255 visible ASCII characters, no comma; a UUID) that makes a retried POST safe: a repeat within the queue's IdempotencyWindow (24 h by default) answers 200 with the first message's id and status instead of storing a second one; the same key with a different body answers 422.";
    private const string KeysDoc = "One idempotency key per item, comma-separated and in order (an empty entry: no key for that item). Repeated items answer with the first message's id (see 'replayed'); if every item is a repeat the answer is 200. A key reused with a different body: 422 and nothing stored.";
    private const string NotBeforeDoc = "Run no sooner than this RFC 3339 time (with Z or an offset, up to 30 days ahead); a time past runs at once. Not with delay.";

    public static IEndpointRouteBuilder MapQueues(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/queues").WithTags("Queues");

        group.MapPost("/{queue}/messages", Enqueue)
            .WithName("EnqueueMessage")
            .WithSummary("Enqueue one message; the JSON body is the payload")
            .Accepts<System.Text.Json.JsonElement>("application/json")
            .ProducesEnqueueProblems();

        group.MapPost("/{queue}/messages/batch", EnqueueBatch)
            .WithName("EnqueueBatch")
            .WithSummary("Enqueue a JSON array of payloads, all or none")
            .Accepts<System.Text.Json.JsonElement[]>("application/json")
            .ProducesEnqueueProblems();

        group.MapGet("/{queue}/messages/{id}", GetMessage)
            .WithName("GetMessage")
            .WithSummary("One message's status, attempts, times and payload")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapDelete("/{queue}/messages/{id}", Cancel)
            .WithName("CancelMessage")
            .WithSummary("Cancel a queued or scheduled message; it is counted as dropped, reason \"cancelled\"")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status501NotImplemented)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAdminKey();

        group.MapGet("/", ListQueues)
            .WithName("ListQueues")
            .WithSummary("Every queue: depth, capacity, workers, counts and circuit state");

        group.MapGet("/{queue}", GetQueue)
            .WithName("GetQueue")
            .WithSummary("One queue: depth, capacity, workers, counts and circuit state")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{queue}/pause", Pause)
            .WithName("PauseQueue")
            .WithSummary("Pause a queue: it keeps accepting messages, its workers take none")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAdminKey();

        group.MapPost("/{queue}/resume", Resume)
            .WithName("ResumeQueue")
            .WithSummary("Resume a paused queue")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAdminKey();

        group.MapGet("/{queue}/dead-letters", DeadLetters)
            .WithName("ListDeadLetters")
            .WithSummary("Messages that exhausted their attempts, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{queue}/dead-letters/{id}/requeue", Requeue)
            .WithName("RequeueDeadLetter")
            .WithSummary("Put a dead letter back in its queue with fresh attempts")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAdminKey();

        group.MapDelete("/{queue}/dead-letters/{id}", DeleteDeadLetter)
            .WithName("DeleteDeadLetter")
            .WithSummary("Delete a dead letter; it is counted as dropped")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAdminKey();

        return app;
    }

    /// <summary>The errors both enqueue routes can answer with, for the OpenAPI document.</summary>
    private static RouteHandlerBuilder ProducesEnqueueProblems(this RouteHandlerBuilder builder) =>
        builder
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status501NotImplemented)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>
    /// What both enqueue routes do first: refuse an unknown or stopping queue before the body is read (cheap
    /// refusals stay cheap; the store still has the last word), then read the body as JSON within <paramref name="limit"/>.
    /// </summary>
    private static async Task<(WorkQueue? Queue, byte[]? Body, ProblemHttpResult? Problem)> ReadForQueueAsync(
        string queue, HttpContext http, QueueEngine engine, ApiOptions api, int limit, bool validate = true)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return (null, null, unknown);
        }

        if (!q.IsAccepting)
        {
            return (null, null, Problems.ShuttingDown(http, api.RetryAfterSeconds));
        }

        var (body, problem) = await JsonBody.ReadAsync(http.Request, limit, validate).ConfigureAwait(false);
        return (q, body, problem);
    }

    /// <summary>The one lookup of a route's queue: the queue, or the problem that names the configured ones.</summary>
    private static bool TryFind(
        QueueEngine engine, string name, [NotNullWhen(true)] out WorkQueue? queue, [NotNullWhen(false)] out ProblemHttpResult? unknown)
    {
        unknown = engine.TryGetQueue(name, out queue) ? null : Problems.UnknownQueue(name, engine.Queues.Select(x => x.Name));
        return queue is not null;
    }

    private static async Task<Results<AcceptedJson<EnqueueResponse>, ProblemHttpResult>> Enqueue(
        string queue, HttpContext http, QueueEngine engine, IOptions<ApiOptions> options,
        [Description(DelayDoc)] string? delay = null, [Description(NotBeforeDoc)] string? notBefore = null,
        [FromHeader(Name = IdempotencyHeader.Name), Description(KeyDoc)] string? idempotencyKey = null,
        [Description(PriorityQuery.Description)] string? priority = null)
    {
        if (!PriorityQuery.TryParse(priority, out var level, out var badPriority))
        {
            return badPriority!;
        }

        var api = options.Value;
        var (q, body, problem) = await ReadForQueueAsync(queue, http, engine, api, api.MaxMessageBytes).ConfigureAwait(false);
        DateTimeOffset? due = null;
        string? key = null;
        if (problem is not null
            || ((delay is not null || notBefore is not null) && !DeliveryTime.TryRead(delay, notBefore, q!.Now, out due, out problem))
            || !IdempotencyHeader.TryReadOne(idempotencyKey, out key, out problem)
            || (problem = Unsupported(engine, due, key is not null, level)) is not null)
        {
            return problem!;
        }

        // Enqueued on the queue in hand: a durable store answers after its commit, the memory store at once.
        var message = q!.NewMessage(body!, MessageTracing.ParentOf(Activity.Current), due, key, level);
        var status = await q.EnqueueAsync(message, http.RequestAborted).ConfigureAwait(false);
        if (status == EnqueueStatus.Duplicate)
        {
            // A repeat within the window: the first message, as it is now; nothing new was stored.
            var first = message.ReplayOf!;
            return new AcceptedJson<EnqueueResponse>($"/queues/{queue}/messages/{first}", new EnqueueResponse(first, queue, message.ReplayStatus), StatusCodes.Status200OK);
        }

        if (status != EnqueueStatus.Accepted)
        {
            return Problems.Refused(http, status, q, api.RetryAfterSeconds);
        }

        var id = message.Id; // Formatted on each read: once is enough.
        var response = due is null ? new EnqueueResponse(id, queue, MessageStatus.Queued) : new EnqueueResponse(id, queue, MessageStatus.Scheduled, due);
        return new AcceptedJson<EnqueueResponse>($"/queues/{queue}/messages/{id}", response);
    }

    private static async Task<Results<AcceptedJson<BatchResponse>, ProblemHttpResult>> EnqueueBatch(
        string queue, HttpContext http, QueueEngine engine, IOptions<ApiOptions> options,
        [Description(DelayDoc)] string? delay = null, [Description(NotBeforeDoc)] string? notBefore = null,
        [FromHeader(Name = IdempotencyHeader.Name), Description(KeysDoc)] string? idempotencyKey = null,
        [Description(PriorityQuery.Description)] string? priority = null)
    {
        if (!PriorityQuery.TryParse(priority, out var level, out var badPriority))
        {
            return badPriority!;
        }

        var api = options.Value;
        // The split below checks the JSON as it goes: one pass over the body, not two.
        var (q, body, problem) = await ReadForQueueAsync(queue, http, engine, api, api.MaxBatchBytes, validate: false).ConfigureAwait(false);
        DateTimeOffset? due = null;
        if (problem is not null || ((delay is not null || notBefore is not null) && !DeliveryTime.TryRead(delay, notBefore, q!.Now, out due, out problem)))
        {
            return problem!;
        }

        var (items, invalid) = JsonBody.SplitArray(body!, api.MaxBatchSize);
        if (invalid is not null)
        {
            return invalid;
        }

        if (!IdempotencyHeader.TryReadList(idempotencyKey, items!.Count, out var keys, out problem)
            || (problem = Unsupported(engine, due, keys is not null, level)) is not null)
        {
            return problem!;
        }

        var messages = q!.NewBatch(items, MessageTracing.ParentOf(Activity.Current), due, keys, level);
        var status = await q.EnqueueBatchAsync(messages, http.RequestAborted).ConfigureAwait(false);
        if (status is not (EnqueueStatus.Accepted or EnqueueStatus.Duplicate))
        {
            return Problems.Refused(http, status, q, api.RetryAfterSeconds);
        }

        var ids = new string[messages.Length];
        var replayed = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            // A repeated item answers with the message first accepted under its key.
            ids[i] = messages[i].ReplayOf ?? messages[i].Id;
            replayed += messages[i].ReplayOf is null ? 0 : 1;
        }

        var response = new BatchResponse(queue, ids.Length, ids, due is null ? MessageStatus.Queued : MessageStatus.Scheduled, due, replayed);
        return new AcceptedJson<BatchResponse>($"/queues/{queue}", response, replayed == ids.Length ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
    }

    private static Results<Ok<MessageView>, ProblemHttpResult> GetMessage(string queue, string id, QueueEngine engine)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return unknown;
        }

        return q.TryGetMessage(id, out var m) ? TypedResults.Ok(MessageView.From(m!)) : Problems.UnknownMessage(queue, id);
    }

    /// <summary>A delay or a key the configured store does not keep yet: 501 rather than a promise it cannot hold.</summary>
    private static ProblemHttpResult? Unsupported(QueueEngine engine, DateTimeOffset? due, bool keyed, int priority)
    {
        var features = engine.Storage.Features;
        if (priority != MessagePriority.Default && !features.HasFlag(StoreFeatures.Priorities))
        {
            return Problems.NotSupported(engine.Storage.Provider, "Priorities (priority other than 5)", "Send it without the priority parameter.");
        }

        if (due is not null && !features.HasFlag(StoreFeatures.DelayedDelivery))
        {
            return Problems.NotSupported(engine.Storage.Provider, "Delayed delivery (delay or notBefore)", "Send it without delay and notBefore.");
        }

        return keyed && !features.HasFlag(StoreFeatures.IdempotencyKeys)
            ? Problems.NotSupported(engine.Storage.Provider, "Idempotent enqueue (Idempotency-Key)", "Send it without the Idempotency-Key header.")
            : null;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Cancel(
        string queue, string id, HttpContext http, QueueEngine engine, IOptions<ApiOptions> options)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return unknown;
        }

        return await q.CancelAsync(id, http.RequestAborted).ConfigureAwait(false) switch
        {
            CancelResult.Done => TypedResults.NoContent(),
            CancelResult.NotFound => Problems.UnknownMessage(queue, id),
            CancelResult.Running => Problems.Make(
                StatusCodes.Status409Conflict,
                "Message is running",
                $"Message '{id}' is already with a worker and cannot be cancelled. GET /queues/{queue}/messages/{id} shows how it ends."),
            CancelResult.Finished => Problems.Make(
                StatusCodes.Status409Conflict,
                "Message already finished",
                $"Message '{id}' already reached a final status; there is nothing to cancel. GET /queues/{queue}/messages/{id} shows it."),
            CancelResult.StorageUnavailable => Problems.StorageUnavailable(http, options.Value.RetryAfterSeconds),
            _ => Problems.NotSupported(engine.Storage.Provider, "Cancelling a message", "The message runs as queued."),
        };
    }

    private static Ok<IReadOnlyList<QueueView>> ListQueues(QueueEngine engine) =>
        TypedResults.Ok<IReadOnlyList<QueueView>>(engine.Queues.Select(QueueView.From).ToList());

    private static Results<Ok<QueueView>, ProblemHttpResult> GetQueue(string queue, QueueEngine engine) =>
        TryFind(engine, queue, out var q, out var unknown) ? TypedResults.Ok(QueueView.From(q)) : unknown;

    private static Results<Ok<QueueView>, ProblemHttpResult> Pause(string queue, QueueEngine engine) =>
        Apply(queue, engine, static q => q.Pause());

    private static Results<Ok<QueueView>, ProblemHttpResult> Resume(string queue, QueueEngine engine) =>
        Apply(queue, engine, static q => q.Resume());

    private static Results<Ok<QueueView>, ProblemHttpResult> Apply(string queue, QueueEngine engine, Action<WorkQueue> action)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return unknown;
        }

        action(q);
        return TypedResults.Ok(QueueView.From(q));
    }

    private static Results<Ok<IReadOnlyList<MessageView>>, ProblemHttpResult> DeadLetters(string queue, QueueEngine engine, int? limit)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return unknown;
        }

        var take = Math.Clamp(limit ?? 100, 1, 10_000);
        return TypedResults.Ok<IReadOnlyList<MessageView>>(q.DeadLetters(take).Select(MessageView.From).ToList());
    }

    private static async Task<Results<Accepted<EnqueueResponse>, ProblemHttpResult>> Requeue(
        string queue, string id, HttpContext http, QueueEngine engine, IOptions<ApiOptions> options)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return unknown;
        }

        return await q.RequeueAsync(id, http.RequestAborted).ConfigureAwait(false) switch
        {
            DeadLetterResult.Done => TypedResults.Accepted($"/queues/{queue}/messages/{id}", new EnqueueResponse(id, queue, MessageStatus.Queued)),
            DeadLetterResult.NotFound => NoDeadLetter(queue, id),
            DeadLetterResult.QueueFull => Problems.Full(http, queue, q.Options.Capacity, options.Value.RetryAfterSeconds),
            DeadLetterResult.StorageUnavailable => Problems.StorageUnavailable(http, options.Value.RetryAfterSeconds),
            _ => Problems.ShuttingDown(http, options.Value.RetryAfterSeconds),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteDeadLetter(
        string queue, string id, HttpContext http, QueueEngine engine, IOptions<ApiOptions> options)
    {
        if (!TryFind(engine, queue, out var q, out var unknown))
        {
            return unknown;
        }

        return await q.DeleteDeadLetterAsync(id, http.RequestAborted).ConfigureAwait(false) switch
        {
            DeadLetterResult.Done => TypedResults.NoContent(),
            DeadLetterResult.StorageUnavailable => Problems.StorageUnavailable(http, options.Value.RetryAfterSeconds),
            _ => NoDeadLetter(queue, id),
        };
    }

    private static ProblemHttpResult NoDeadLetter(string queue, string id) => Problems.Make(
        StatusCodes.Status404NotFound,
        "Unknown dead letter",
        $"Queue '{queue}' has no dead letter '{id}'. GET /queues/{queue}/dead-letters lists them.");
}
