using System.Security.Cryptography;

namespace QueueApi.Engine.Messages;

/// <summary>Unique, time-sortable ids: 12 hex digits of Unix milliseconds, then 8 of a process-wide sequence.</summary>
internal static class MessageId
{
    // A random start keeps ids of two processes started in the same millisecond apart.
    private static int s_sequence = RandomNumberGenerator.GetInt32(int.MaxValue);
    private static long s_lastMs;

    public static string Next(TimeProvider time)
    {
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        // Never let the clock run backwards inside one process, so ids stay sorted.
        var last = Volatile.Read(ref s_lastMs);
        while (ms > last)
        {
            var seen = Interlocked.CompareExchange(ref s_lastMs, ms, last);
            if (seen == last)
            {
                break;
            }

            last = seen;
        }

        ms = Math.Max(ms, Volatile.Read(ref s_lastMs));
        var seq = (uint)Interlocked.Increment(ref s_sequence);
        return string.Create(20, (ms, seq), static (span, s) =>
        {
            s.ms.TryFormat(span[..12], out _, "x12");
            s.seq.TryFormat(span[12..], out _, "x8");
        });
    }
}
