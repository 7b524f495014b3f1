using Cronos;

namespace QueueApi.Engine.Scheduling;

/// <summary>
/// A cron expression in a time zone, parsed by Cronos: five fields (minute precision) or six (seconds first), or a
/// macro such as <c>@daily</c>. Daylight saving follows Cronos: an occurrence in a skipped hour runs once at the end of
/// the gap; in a repeated hour a fixed time runs once (its first instance), while an interval runs through both.
/// </summary>
public sealed class CronSchedule
{
    private readonly CronExpression _expression;

    private CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        _expression = expression;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => _expression.GetNextOccurrence(after, Zone, inclusive: false);

    /// <summary>Parses both parts; on failure says which one and why, in words a client can act on.</summary>
    public static bool TryParse(string? cron, string? timeZone, out CronSchedule? schedule, out string? cronError, out string? zoneError)
    {
        schedule = null;
        cronError = ParseCron(cron, out var expression);
        zoneError = FindZone(timeZone, out var zone);
        if (cronError is null && zoneError is null)
        {
            schedule = new CronSchedule(expression!, zone!);
        }

        return schedule is not null;
    }

    private static string? ParseCron(string? cron, out CronExpression? expression)
    {
        expression = null;
        if (string.IsNullOrWhiteSpace(cron))
        {
            return "is required: five fields (minute hour day month weekday), six with seconds first, or a macro such as @hourly.";
        }

        var text = cron.Trim();
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (!text.StartsWith('@') && fields is not (5 or 6))
        {
            return $"'{cron}' has {fields} fields; use five (minute hour day month weekday) or six with seconds first.";
        }

        try
        {
            expression = CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            return null;
        }
        catch (CronFormatException ex)
        {
            return $"'{cron}' is not a valid cron expression: {ex.Message}";
        }
    }

    private static string? FindZone(string? timeZone, out TimeZoneInfo? zone)
    {
        zone = null;
        if (string.IsNullOrWhiteSpace(timeZone))
        {
            return "is required: an IANA time zone such as UTC or Europe/Berlin.";
        }

        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
            return null;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return $"'{timeZone}' is not a time zone this machine knows; use an IANA id such as UTC or Europe/Berlin.";
        }
    }
}
