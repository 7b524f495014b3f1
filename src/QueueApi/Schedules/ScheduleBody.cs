using System.Text.Json;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Schedules;

/// <summary>
/// Reads the body of <c>PUT /schedules/{name}</c> strictly: an object with known fields of the right types (a
/// misspelt field is an error, not silently ignored). The values themselves are checked by <see cref="ScheduleValidator"/>.
/// </summary>
internal static class ScheduleBody
{
    public static ScheduleDefinition? Read(string name, byte[] body, List<(string Field, string Error)> errors)
    {
        using var doc = JsonDocument.Parse(body);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            errors.Add(("body", $"must be a JSON object such as {Example}, not {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}."));
            return null;
        }

        string? queue = null, cron = null, zone = "UTC";
        byte[] payload = "{}"u8.ToArray();
        bool enabled = true;
        var misfire = MisfirePolicy.RunOnce;
        var priority = MessagePriority.Default;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "queue": queue = Text(v, p.Name, errors); break;
                case "cron": cron = Text(v, p.Name, errors); break;
                case "timeZone": zone = Text(v, p.Name, errors); break;
                case "payload": payload = System.Text.Encoding.UTF8.GetBytes(v.GetRawText()); break; // as the client wrote it
                case "enabled" when v.ValueKind is JsonValueKind.True or JsonValueKind.False: enabled = v.GetBoolean(); break;
                case "misfire" when v.ValueKind == JsonValueKind.String && Api.NamedValues.TryParse<MisfirePolicy>(v.GetString(), out var m):
                    misfire = m;
                    break;
                case "priority" when v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n): priority = n; break;
                case "enabled": errors.Add((p.Name, "must be true or false.")); break;
                case "misfire": errors.Add((p.Name, $"must be \"runOnce\" (one catch-up run for what was missed) or \"skip\" (got {v.GetRawText()}).")); break;
                case "priority": errors.Add((p.Name, $"must be an integer from {MessagePriority.Min} to {MessagePriority.Max} (got {v.GetRawText()}).")); break;
                default: errors.Add((p.Name, "is not a field of a schedule; the fields are queue, cron, timeZone, payload, enabled, misfire and priority.")); break;
            }
        }

        return errors.Count > 0 ? null : new ScheduleDefinition(name, queue ?? "", cron ?? "", zone ?? "", payload, enabled, misfire, priority);
    }

    public const string Example = """{"queue": "default", "cron": "0 7 * * 1-5", "timeZone": "Europe/Berlin", "payload": {"report": "daily"}}""";

    private static string? Text(JsonElement v, string field, List<(string, string)> errors)
    {
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }

        errors.Add((field, $"must be a string (got {v.GetRawText()})."));
        return null;
    }
}
