using System.Text.Json;
using System.Text.Json.Serialization;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;

namespace QueueApi.Dashboard;

/// <summary>Everything the dashboard shows at one instant: one JSON object, sent as one server-sent event.</summary>
public sealed record DashboardSnapshot(
    DateTimeOffset At,
    EngineView Engine,
    bool AdminKeyRequired,
    IReadOnlyList<DashboardQueue> Queues,
    IReadOnlyList<DashboardWorker> Workers,
    IReadOnlyList<DashboardMessage> Failures,
    IReadOnlyList<DashboardMessage> DeadLetters,
    ThroughputHistory History,
    ShutdownReport? Shutdown,
    IReadOnlyList<ReplicaView>? Replicas);

/// <summary>Where the engine is, and what liveness and readiness say.</summary>
public sealed record EngineView(EngineState State, bool Live, bool Ready, string Reason);

/// <summary>One queue as <c>GET /queues/{queue}</c> shows it, with its rates over the last second.</summary>
public sealed record DashboardQueue(QueueView Queue, double InPerSecond, double OutPerSecond);

/// <summary>
/// One worker thread as <c>GET /workers/{id}</c> shows it, with how long it has been on its message and whether that
/// is past its queue's attempt time limit (<c>Overdue</c>: likely stuck).
/// </summary>
public sealed record DashboardWorker(WorkerView Worker, long? BusyForMs, bool Overdue);

/// <summary>A failed, retrying or dead-lettered message, with its error and the start of its payload as text.</summary>
public sealed record DashboardMessage(
    string Id,
    string Queue,
    MessageStatus Status,
    int Attempts,
    string? WorkerId,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    string Payload,
    bool PayloadTruncated);

/// <summary>
/// Messages succeeded and failed (failed or dead-lettered) per second, all queues together, oldest first;
/// the last entry is the second that ended at <c>End</c>.
/// </summary>
public sealed record ThroughputHistory(DateTimeOffset End, int StepMs, IReadOnlyList<long> Succeeded, IReadOnlyList<long> Failed);

/// <summary>One instance sharing the store, when a shared store is in use (filled by an <see cref="IReplicaSource"/>).</summary>
public sealed record ReplicaView(string Id, string State, DateTimeOffset? LastSeen, string? Detail);

/// <summary>Source-generated JSON for the dashboard's shapes.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(DashboardSnapshot))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
