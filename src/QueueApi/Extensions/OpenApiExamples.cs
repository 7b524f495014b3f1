using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace QueueApi.Extensions;

/// <summary>
/// Examples for the OpenAPI document, so Swagger UI's "Try it out" starts from a request that works (the demo
/// handler's payload, the "default" queue) instead of "string", and each answer shows what comes back.
/// </summary>
internal static class OpenApiExamples
{
    private const string Id = "01a20e8faf5b72277968";

    /// <summary>Request body examples by operation id.</summary>
    private static readonly Dictionary<string, string> Requests = new()
    {
        ["EnqueueMessage"] = """{"sleepMs": 500}""",
        ["EnqueueBatch"] = """[{"sleepMs": 500}, {"sleepMs": 500}, {"failAttempts": 1}]""",
        ["Shutdown"] = """{"mode": "drain"}""",
    };

    /// <summary>Response examples by operation id and status code.</summary>
    private static readonly Dictionary<(string Operation, string Status), string> Responses = new()
    {
        [("EnqueueMessage", "202")] = $$"""{"id": "{{Id}}", "queue": "default", "status": "queued", "dueAt": null}""",
        [("EnqueueMessage", "200")] = $$"""{"id": "{{Id}}", "queue": "default", "status": "succeeded", "dueAt": null}""",
        [("EnqueueMessage", "422")] = Problem(422, "Idempotency key reused", "This Idempotency-Key was used on queue 'default' within the last 1.00:00:00 for a different body. Nothing was stored. Use a new key for a new message, or send the same body to get the first message back."),
        [("EnqueueMessage", "400")] = Problem(400, "Malformed JSON", "The body is not valid JSON: '}' is invalid after a property name. Expected a ':'. LineNumber: 0 | BytePositionInLine: 8. Fix the JSON and send it again."),
        [("EnqueueMessage", "404")] = Problem(404, "Unknown queue", "There is no queue named 'nope'. Configured queues: default, demo. Queues are declared under QueueApi:Queues in configuration."),
        [("EnqueueMessage", "415")] = Problem(415, "Unsupported media type", "The body must be JSON: send the header 'Content-Type: application/json' (got 'none')."),
        [("EnqueueMessage", "429")] = Problem(429, "Queue full", "Queue 'default' holds its capacity of 10000 messages. Retry after 1 s, or raise QueueApi:Queues:default:Capacity."),
        [("EnqueueBatch", "202")] = $$"""{"queue": "default", "count": 3, "ids": ["{{Id}}", "01a20e8faf5b72277969", "01a20e8faf5b7227796a"], "status": "queued", "dueAt": null, "replayed": 0}""",
        [("EnqueueBatch", "400")] = Problem(400, "Invalid batch", "The body must be a JSON array of message payloads, for example [{\"n\": 1}, {\"n\": 2}]."),
        [("GetMessage", "200")] = $$$"""{"id": "{{{Id}}}", "queue": "default", "status": "succeeded", "attempts": 1, "workerId": "default-2", "enqueuedAt": "2026-12-01T10:00:00.000Z", "startedAt": "2026-12-01T10:00:00.001Z", "completedAt": "2026-12-01T10:00:00.502Z", "nextAttemptAt": null, "dueAt": null, "error": null, "traceId": "0af7651916cd43dd8448eb211c80319c", "payload": {"sleepMs": 500}, "priority": 5}""",
        [("CancelMessage", "409")] = Problem(409, "Message is running", $"Message '{Id}' is already with a worker and cannot be cancelled. GET /queues/default/messages/{Id} shows how it ends."),
        [("Shutdown", "202")] = """{"mode": "drain", "alreadyStopping": false, "queued": 3, "inFlight": 1, "deadline": "2026-12-01T10:00:20.000Z"}""",
        [("Shutdown", "400")] = Problem(400, "Invalid shutdown request", "The field 'mode' has the value 42, which is not a shutdown mode. Allowed values: \"drain\", \"immediate\" (a name, not a number)."),
        [("CrashWorker", "202")] = """{"workerId": "default-1", "fault": "crash", "requestedAt": "2026-12-01T10:00:00.000Z", "worker": "/workers/default-1"}""",
        [("HangWorker", "202")] = """{"workerId": "default-1", "fault": "hang", "requestedAt": "2026-12-01T10:00:00.000Z", "worker": "/workers/default-1"}""",
    };

    /// <summary>Operation transformer: the examples above, and the queue parameter's default.</summary>
    public static Task Apply(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter is { Name: "queue", In: ParameterLocation.Path })
            {
                parameter.Example = JsonValue.Create("default");
                if (parameter.Schema is OpenApiSchema schema)
                {
                    schema.Default = JsonValue.Create("default");
                }
            }
        }

        if (operation.OperationId is not { } id)
        {
            return Task.CompletedTask;
        }

        if (Requests.TryGetValue(id, out var request) && operation.RequestBody?.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Example = JsonNode.Parse(request);
            }
        }

        if (id == "Shutdown" && operation.RequestBody is OpenApiRequestBody body)
        {
            body.Required = false; // No body means the default mode (QueueApi:Shutdown:DefaultMode).
            body.Description = "Optional: {\"mode\": \"drain\"} (the default) or {\"mode\": \"immediate\"}; the names only, in any casing.";
        }

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (Responses.TryGetValue((id, status), out var example) && response.Content is { } media)
            {
                foreach (var type in media.Values)
                {
                    type.Example = JsonNode.Parse(example);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static string Problem(int status, string title, string detail) =>
        new JsonObject
        {
            // As the framework fills them in (ProblemDetailsDefaults).
            ["type"] = status == 429 ? "https://tools.ietf.org/html/rfc6585#section-4" : $"https://tools.ietf.org/html/rfc9110#section-15.5.{status switch { 400 => 1, 404 => 5, _ => 16 }}",
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
        }.ToJsonString();
}
