using Microsoft.Extensions.Time.Testing;

namespace QueueApi.Engine.Tests;

/// <summary>Time that tests drive: the engine's deadlines, backoffs and stop phases run on it, and only move when a test advances it.</summary>
internal static class FakeClock
{
    /// <summary>A fake clock starting now (message ids and times stay plausible).</summary>
    public static FakeTimeProvider Create() => new(DateTimeOffset.UtcNow);

    /// <summary>
    /// Advances the clock by <paramref name="step"/> at a time until <paramref name="condition"/> holds, giving the
    /// engine's threads a moment after each step to act on the timers that fired; fails after
    /// <see cref="TestEngine.Timeout"/> of real time. Returns how much fake time passed.
    /// </summary>
    public static TimeSpan AdvanceUntil(this FakeTimeProvider time, Func<bool> condition, TimeSpan step, string what)
    {
        var start = time.GetTimestamp();
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (bound.Elapsed > TestEngine.Timeout)
            {
                throw new TimeoutException($"Timed out after {TestEngine.Timeout} (and {time.GetElapsedTime(start)} of fake time) waiting for {what}.");
            }

            time.Advance(step);
            SpinWait.SpinUntil(condition, TimeSpan.FromMilliseconds(5));
        }

        return time.GetElapsedTime(start);
    }
}
