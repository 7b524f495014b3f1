using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;

namespace QueueApi.Queues;

/// <summary>
/// Reads when a message may run from the enqueue routes' <c>?delay=SECONDS</c> (a decimal number) or
/// <c>?notBefore=</c> (an RFC 3339 time with its offset). Anything else is a 400 that says what to send.
/// </summary>
internal static partial class DeliveryTime
{
    /// <summary>The furthest a message may be scheduled ahead: past that, a scheduler is the better tool.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(30);

    // RFC 3339 section 5.6: full date, 'T' (or a space, as the RFC allows), time, optional fraction, Z or an offset.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();

    [GeneratedRegex(@"^\d{1,9}(\.\d{1,9})?$")]
    private static partial Regex Seconds();

    /// <summary>The due time, null for "now", or the problem that explains what is wrong.</summary>
    public static bool TryRead(string? delay, string? notBefore, DateTimeOffset now, out DateTimeOffset? due, out ProblemHttpResult? problem)
    {
        due = null;
        problem = null;
        if (delay is not null && notBefore is not null)
        {
            problem = Invalid("Send either delay or notBefore, not both.");
            return false;
        }

        if (delay is not null)
        {
            if (!Seconds().IsMatch(delay) || !double.TryParse(delay, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                || seconds > MaxDelay.TotalSeconds)
            {
                problem = Invalid($"delay '{delay}' is not a number of seconds from 0 to {MaxDelay.TotalSeconds:0} (30 days), such as delay=90 or delay=2.5.");
                return false;
            }

            due = seconds > 0 ? now + TimeSpan.FromSeconds(seconds) : null;
            return true;
        }

        if (notBefore is not null)
        {
            if (!Rfc3339().IsMatch(notBefore) || !DateTimeOffset.TryParse(notBefore, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                problem = Invalid($"notBefore '{notBefore}' is not an RFC 3339 time with an offset, such as notBefore=2026-12-01T09:30:00Z.");
                return false;
            }

            if (at - now > MaxDelay)
            {
                problem = Invalid($"notBefore '{notBefore}' is more than 30 days ahead.");
                return false;
            }

            due = at > now ? at.ToUniversalTime() : null; // A time already past runs at once.
            return true;
        }

        return true;
    }

    private static ProblemHttpResult Invalid(string detail) => Problems.Make(StatusCodes.Status400BadRequest, "Invalid delivery time", detail);
}
