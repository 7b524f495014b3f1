using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace QueueApi.Schedules;

/// <summary>Examples for the schedule routes in the OpenAPI document, so "Try it out" starts from a request that works.</summary>
internal static class ScheduleOpenApi
{
    private const string View = """{"name": "daily-report", "queue": "default", "cron": "0 7 * * 1-5", "timeZone": "Europe/Berlin", "payload": {"report": "daily"}, "enabled": true, "misfire": "runOnce", "priority": 5, "source": "api", "nextRunAt": "2026-12-02T06:00:00+00:00", "lastRunAt": "2026-12-01T06:00:00.003+00:00", "lastOccurrence": "2026-12-01T06:00:00+00:00", "lastMessageId": "01a20e8faf5b72277968", "lastError": null}""";

    private static readonly Dictionary<(string Operation, string Status), string> Examples = new()
    {
        [("PutSchedule", "request")] = ScheduleBody.Example,
        [("PutSchedule", "201")] = View,
        [("PutSchedule", "200")] = View,
        [("PutSchedule", "400")] = """{"title": "Invalid schedule", "status": 400, "detail": "Schedule 'daily-report' was not saved. Fix and PUT again: cron: '0 7 * *' has 4 fields; use five (minute hour day month weekday) or six with seconds first."}""",
        [("PutSchedule", "409")] = """{"title": "Schedule is read-only", "status": 409, "detail": "Schedule 'nightly' is declared in configuration (QueueApi:Schedules:nightly) and cannot be changed over the API; change it there and restart, or use another name."}""",
        [("GetSchedule", "200")] = View,
        [("ListSchedules", "200")] = $"[{View}]",
        [("TriggerSchedule", "202")] = """{"schedule": "daily-report", "queue": "default", "messageId": "01a20e8faf5b72277968"}""",
    };

    /// <summary>Operation transformer: the examples above, and the name parameter's example.</summary>
    public static Task Apply(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.OperationId is not { } id || !Examples.Keys.Any(k => k.Operation == id))
        {
            return Task.CompletedTask;
        }

        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter is { Name: "name", In: ParameterLocation.Path })
            {
                parameter.Example = JsonValue.Create("daily-report");
            }
        }

        if (Examples.TryGetValue((id, "request"), out var request) && operation.RequestBody?.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Example = JsonNode.Parse(request);
            }
        }

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (Examples.TryGetValue((id, status), out var example) && response.Content is { } media)
            {
                foreach (var type in media.Values)
                {
                    type.Example = JsonNode.Parse(example);
                }
            }
        }

        return Task.CompletedTask;
    }
}
