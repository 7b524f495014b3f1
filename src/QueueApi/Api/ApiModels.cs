using System.Text.Json;
using System.Text.Json.Serialization;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Api;

/// <summary>A JSON value kept as the exact bytes the client sent, written back verbatim.</summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly record struct RawJson(byte[] Utf8);

internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return new RawJson(JsonSerializer.SerializeToUtf8Bytes(doc.RootElement, ApiJsonContext.Default.JsonElement));
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8, skipInputValidation: true);
}

public sealed record EnqueueResponse(string Id, string Queue, MessageStatus Status, DateTimeOffset? DueAt = null);

/// <summary>A batch's answer; <c>Replayed</c>: how many ids are of messages first accepted with the same idempotency key.</summary>
public sealed record BatchResponse(string Queue, int Count, IReadOnlyList<string> Ids, MessageStatus Status, DateTimeOffset? DueAt = null, int Replayed = 0);

public sealed record MessageView(
    string Id,
    string Queue,
    MessageStatus Status,
    int Attempts,
    string? WorkerId,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DueAt,
    string? Error,
    string? TraceId,
    RawJson Payload,
    int Priority)
{
    public static MessageView From(QueueMessage m) => new(
        m.Id, m.Queue, m.Status, m.Attempts, m.WorkerId, m.EnqueuedAt, m.StartedAt, m.CompletedAt, m.NextAttemptAt, m.DueAt, m.Error, m.TraceId, new RawJson(m.Payload), m.Priority);
}

public sealed record CircuitView(string State, DateTimeOffset? OpenUntil);

public sealed record QueueView(
    string Name,
    string Handler,
    int Depth,
    int Capacity,
    int Workers,
    int BusyWorkers,
    bool Accepting,
    bool Paused,
    CircuitView Circuit,
    int DeadLetters,
    QueueCounts Counts,
    RateLimitState? RateLimit,
    IReadOnlyList<PriorityLane> Priorities)
{
    public static QueueView From(WorkQueue q)
    {
        var counts = q.Counts();
        return new QueueView(
            q.Name,
            q.Options.Handler,
            counts.Queued,
            q.Options.Capacity,
            q.Workers.Count,
            q.Workers.Count(w => w.State is WorkerState.Busy or WorkerState.Retrying),
            q.IsAccepting,
            q.IsPaused,
            new CircuitView(q.CircuitState, q.CircuitOpenUntil),
            q.DeadLetterCount,
            counts,
            q.RateLimit,
            q.Priorities());
    }
}

public sealed record WorkerView(
    string Id,
    string Queue,
    string ThreadName,
    int ManagedThreadId,
    bool IsAlive,
    bool IsBackground,
    WorkerState State,
    string? CurrentMessageId,
    DateTimeOffset? BusySince,
    int? CurrentAttempt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset LastActivity,
    long Succeeded,
    long Failed,
    WorkerFault? Fault)
{
    public static WorkerView From(Worker w)
    {
        var current = w.CurrentMessage;
        var alive = w.Thread.IsAlive;
        return new WorkerView(
            w.Id,
            w.QueueName,
            w.Thread.Name ?? w.Id,
            w.Thread.ManagedThreadId,
            alive,
            // IsBackground throws once a thread has ended; every worker is created as one.
            !alive || w.Thread.IsBackground,
            w.State,
            current?.Id,
            w.BusySince,
            current?.Attempts,
            current?.NextAttemptAt,
            w.LastActivity,
            w.Succeeded,
            w.Failed,
            w.Fault);
    }
}

/// <summary>
/// The answer to a fault injection: what was asked and where to watch, not the worker's state, which has not
/// changed yet (the worker acts on it when it next looks: at once when idle, after its current message when busy).
/// </summary>
public sealed record FaultRequested(string WorkerId, string Fault, DateTimeOffset RequestedAt, string Worker);

public sealed record ShutdownRequest(ShutdownMode? Mode);

public sealed record HealthEntry(string Status, string Description);

public sealed record HealthReportView(
    string Status,
    IReadOnlyDictionary<string, HealthEntry> Checks,
    EngineState Engine,
    IReadOnlyList<QueueView> Queues,
    IReadOnlyList<WorkerView> Workers,
    IReadOnlyList<QueueApi.Storage.Postgres.NodeInfo>? Nodes);

/// <summary>Source-generated JSON for every API shape: no reflection on the request path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EnqueueResponse))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(MessageView))]
[JsonSerializable(typeof(QueueView))]
[JsonSerializable(typeof(IReadOnlyList<QueueView>))]
[JsonSerializable(typeof(WorkerView))]
[JsonSerializable(typeof(IReadOnlyList<WorkerView>))]
[JsonSerializable(typeof(IReadOnlyList<MessageView>))]
[JsonSerializable(typeof(FaultRequested))]
[JsonSerializable(typeof(ShutdownRequest))]
[JsonSerializable(typeof(ShutdownAccepted))]
[JsonSerializable(typeof(ShutdownReport))]
[JsonSerializable(typeof(HealthReportView))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(IReadOnlyList<QueueApi.Storage.Postgres.NodeInfo>))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
