using System.Text.Json;
using System.Text.Json.Serialization;
using QueueApi.Api;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Schedules;

/// <summary>The body of <c>PUT /schedules/{name}</c>, for the OpenAPI document; read strictly by <see cref="ScheduleBody"/>.</summary>
public sealed class ScheduleRequest
{
    /// <summary>The queue each occurrence enqueues into.</summary>
    public required string Queue { get; init; }

    /// <summary>Five fields (minute hour day month weekday), six with seconds first, or a macro such as @daily.</summary>
    public required string Cron { get; init; }

    /// <summary>An IANA time zone; UTC when absent.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The message body, any JSON; {} when absent.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>True when absent.</summary>
    public bool? Enabled { get; init; }

    /// <summary>runOnce (the default: one catch-up run for what was missed while down) or skip.</summary>
    public MisfirePolicy? Misfire { get; init; }

    /// <summary>The messages' priority, 0-9; 5 when absent.</summary>
    public int? Priority { get; init; }
}

/// <summary>A schedule as shown: its definition, where it was declared, and its next and last run.</summary>
public sealed record ScheduleView(
    string Name,
    string Queue,
    string Cron,
    string TimeZone,
    RawJson Payload,
    bool Enabled,
    MisfirePolicy Misfire,
    int Priority,
    ScheduleSource Source,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    DateTimeOffset? LastOccurrence,
    string? LastMessageId,
    string? LastError)
{
    public static ScheduleView From(ScheduleInfo s)
    {
        var d = s.Definition;
        return new ScheduleView(
            d.Name, d.Queue, d.Cron, d.TimeZone, new RawJson(d.Payload), d.Enabled, d.Misfire, d.Priority, d.Source,
            s.NextRunAt, s.LastRun?.At, s.LastRun?.Occurrence, s.LastRun?.MessageId, s.LastRun?.Error);
    }
}

/// <summary>What <c>POST /schedules/{name}/trigger</c> enqueued.</summary>
public sealed record TriggerResponse(string Schedule, string Queue, string MessageId);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ScheduleRequest))]
[JsonSerializable(typeof(ScheduleView))]
[JsonSerializable(typeof(IReadOnlyList<ScheduleView>))]
[JsonSerializable(typeof(TriggerResponse))]
internal sealed partial class ScheduleJsonContext : JsonSerializerContext;
