using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;

namespace QueueApi.Queues;

/// <summary>
/// Reads the <c>Idempotency-Key</c> header: on a single enqueue one key; on a batch a comma-separated list with one
/// entry per item, in order (an empty entry: that item has no key). A key is 1 to 255 visible ASCII characters
/// other than a comma; anything else is a 400 that says what to send.
/// </summary>
internal static class IdempotencyHeader
{
    public const string Name = "Idempotency-Key";
    private const int MaxLength = 255;

    /// <summary>The single enqueue's key (null without the header), or the problem.</summary>
    public static bool TryReadOne(string? header, out string? key, out ProblemHttpResult? problem)
    {
        key = null;
        problem = null;
        if (header is null)
        {
            return true;
        }

        // Two headers arrive joined by a comma, which no key may hold: refused too.
        if (!IsKey(header))
        {
            problem = Invalid($"{Name} '{header}' is not one key of 1 to {MaxLength} visible ASCII characters without commas (a UUID is a good key).");
            return false;
        }

        key = header;
        return true;
    }

    /// <summary>A batch's keys, one per item (null entries for items without one), or null without the header.</summary>
    public static bool TryReadList(string? header, int items, out string?[]? keys, out ProblemHttpResult? problem)
    {
        keys = null;
        problem = null;
        if (header is null)
        {
            return true;
        }

        var parts = header.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != items)
        {
            problem = Invalid($"{Name} on a batch lists one key per item, comma-separated and in order (empty for an item without one): got {parts.Length} for {items} items.");
            return false;
        }

        keys = new string?[items];
        for (var i = 0; i < items; i++)
        {
            if (parts[i].Length == 0)
            {
                continue;
            }

            if (!IsKey(parts[i]))
            {
                problem = Invalid($"{Name} entry {i + 1} '{parts[i]}' is not a key of 1 to {MaxLength} visible ASCII characters.");
                return false;
            }

            keys[i] = parts[i];
        }

        return true;
    }

    private static bool IsKey(string value)
    {
        if (value.Length is 0 or > MaxLength)
        {
            return false;
        }

        // A loop, not LINQ: this runs on every keyed enqueue.
        foreach (var c in value)
        {
            if (c is <= ' ' or >= (char)127 or ',')
            {
                return false;
            }
        }

        return true;
    }

    private static ProblemHttpResult Invalid(string detail) => Problems.Make(StatusCodes.Status400BadRequest, "Invalid idempotency key", detail);
}
