using System.Text.Json;
using System.Text.RegularExpressions;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Scheduling;

/// <summary>
/// Checks a schedule, wherever it was declared: its name, that its queue exists, its cron and time zone (by
/// <see cref="CronSchedule"/>), that its payload is JSON and its priority 0-9. Each error names the field.
/// </summary>
public static partial class ScheduleValidator
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex Name();

    /// <summary>Every error as (field, what is wrong); empty and <paramref name="cron"/> set when the schedule is valid.</summary>
    public static IReadOnlyList<(string Field, string Error)> Validate(ScheduleDefinition definition, IEnumerable<string> queues, out CronSchedule? cron)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var errors = new List<(string, string)>();
        // Stryker disable once String : a missing name is refused either way: Stryker's stand-in (spaces, '!') fails the pattern as "" does.
        if (!Name().IsMatch(definition.Name ?? ""))
        {
            errors.Add(("name", $"'{definition.Name}' is not a schedule name; use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit."));
        }

        var known = queues.ToList();
        if (string.IsNullOrWhiteSpace(definition.Queue))
        {
            errors.Add(("queue", $"is required; configured queues: {string.Join(", ", known)}."));
        }
        else if (!known.Contains(definition.Queue, StringComparer.Ordinal))
        {
            errors.Add(("queue", $"there is no queue named '{definition.Queue}'; configured queues: {string.Join(", ", known)}."));
        }

        CronSchedule.TryParse(definition.Cron, definition.TimeZone, out cron, out var cronError, out var zoneError);
        if (cronError is not null)
        {
            errors.Add(("cron", cronError));
        }

        if (zoneError is not null)
        {
            errors.Add(("timeZone", zoneError));
        }

        if (!IsJson(definition.Payload))
        {
            errors.Add(("payload", "is not a JSON value; the message body the schedule enqueues must be JSON, such as {\"report\": \"daily\"}."));
        }

        if (!MessagePriority.IsValid(definition.Priority))
        {
            errors.Add(("priority", $"{definition.Priority} is not from {MessagePriority.Min} to {MessagePriority.Max}."));
        }

        return errors;
    }

    private static bool IsJson(byte[]? payload)
    {
        if (payload is null || payload.Length == 0)
        {
            return false;
        }

        try
        {
            using var _ = JsonDocument.Parse(payload);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
