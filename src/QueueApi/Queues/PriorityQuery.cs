using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;
using QueueApi.Engine.Messages;

namespace QueueApi.Queues;

/// <summary>The <c>priority</c> query parameter of the enqueue routes: an integer 0-9, 5 when absent.</summary>
internal static class PriorityQuery
{
    public const string Description = "0 (lowest) to 9 (highest); default 5. Higher runs first, equal priorities in order of arrival; a waiting message gains one level per PriorityAging (default 30 s), up to 9.";

    /// <summary>The priority asked for, or the problem naming what was wrong: bound as text so a bad value gets our answer.</summary>
    public static bool TryParse(string? raw, out int priority, out ProblemHttpResult? problem)
    {
        problem = null;
        priority = MessagePriority.Default;
        if (raw is null)
        {
            return true;
        }

        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out priority) && MessagePriority.IsValid(priority))
        {
            return true;
        }

        priority = MessagePriority.Default;
        problem = Problems.Make(
            StatusCodes.Status400BadRequest,
            "Invalid priority",
            $"The query parameter priority='{raw}' is not an integer from {MessagePriority.Min} to {MessagePriority.Max}. Send ?priority={MessagePriority.Max} for the most urgent, or leave it out for {MessagePriority.Default}.");
        return false;
    }
}
