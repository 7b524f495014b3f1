namespace QueueApi.Engine.Messages;

/// <summary>
/// The priority rule: 0 to 9, higher first, equal in order of arrival; a message that waits gains one level per
/// aging period, up to <see cref="Max"/>, so a steady stream of high-priority work cannot starve the rest.
/// </summary>
public static class MessagePriority
{
    public const int Min = 0;
    public const int Max = 9;
    public const int Default = 5;

    /// <summary>How many levels there are: one lane each in the in-memory store.</summary>
    public const int Levels = Max - Min + 1;

    public static bool IsValid(int priority) => priority is >= Min and <= Max;

    /// <summary>
    /// The priority a claim compares: <paramref name="priority"/> plus one per whole <paramref name="agingTicks"/>
    /// waited since <paramref name="readySinceTicks"/>, at most <see cref="Max"/>. Aging 0 (or less) turns it off.
    /// </summary>
    public static int Effective(int priority, long readySinceTicks, long nowTicks, long agingTicks)
    {
        // Stryker disable once Equality : at the boundaries (priority == Max, now == readySince) the arithmetic below gives the same answer (Max, priority + 0); agingTicks <= 0 is pinned by MessagePriorityAgingTests (0 would divide by zero).
        if (agingTicks <= 0 || priority >= Max || nowTicks <= readySinceTicks)
        {
            return priority;
        }

        var gained = (nowTicks - readySinceTicks) / agingTicks;
        // Stryker disable once Equality : when gained == Max - priority both branches give Max.
        return gained >= Max - priority ? Max : priority + (int)gained;
    }
}
