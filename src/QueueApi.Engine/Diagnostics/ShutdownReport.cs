using System.Text.Json;
using System.Text.Json.Serialization;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Diagnostics;

/// <summary>Why the engine stopped.</summary>
public enum StopReason
{
    Requested,
    HostStopping,
    WorkerFaulted,
    WorkerStuck,
}

/// <summary>
/// The account of one stop: why, the first failure, what became of every message, how long each phase took, and per
/// queue how many messages remain stored for the next start (a durable store keeps what the stop did not finish).
/// </summary>
public sealed record ShutdownReport(
    bool Complete,
    StopReason Reason,
    ShutdownMode Mode,
    int ExitCode,
    DateTimeOffset RequestedAt,
    DateTimeOffset? CompletedAt,
    FirstFailure? FirstFailure,
    IReadOnlyList<PhaseTiming> Phases,
    IReadOnlyDictionary<string, QueueCounts> Queues,
    IReadOnlyList<string> AbandonedWorkers,
    IReadOnlyDictionary<string, int> Stored);

/// <summary>The failure that started a fail-fast wind-down.</summary>
public sealed record FirstFailure(string WorkerId, string Kind, string Exception, string Message, string? MessageId, DateTimeOffset At);

/// <summary>How long one phase of the stop took.</summary>
public sealed record PhaseTiming(string Name, double DurationMs);

/// <summary>Source-generated JSON for the report, so logging and the report file need no reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, WriteIndented = false)]
[JsonSerializable(typeof(ShutdownReport))]
public sealed partial class ReportJsonContext : JsonSerializerContext;
