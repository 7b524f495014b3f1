using System.Security.Cryptography;

namespace QueueApi.Engine.Messages;

/// <summary>Unique, time-sortable ids: 12 hex digits of Unix milliseconds, then 8 of a process-wide sequence.</summary>
internal static class MessageId
{
    public const int Length = 20;

    // A random start keeps ids of two processes started in the same millisecond apart.
    private static int s_sequence = RandomNumberGenerator.GetInt32(int.MaxValue);
    private static long s_lastMs;

    /// <summary>The next id as numbers: the text form is made only when someone reads it.</summary>
    public static MessageKey Next(TimeProvider time) => Next(time.GetUtcNow());

    /// <summary>The next id for a message enqueued at <paramref name="now"/> (one clock read serves a whole batch).</summary>
    public static MessageKey Next(DateTimeOffset now) => new(Milliseconds(now), (uint)Interlocked.Increment(ref s_sequence));

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ids for a batch: one atomic add reserves the whole range,
    /// so the batch's ids are adjacent and sorted. The next is <c>first with { Seq = first.Seq + i }</c>.
    /// </summary>
    public static MessageKey NextRange(DateTimeOffset now, int count) =>
        new(Milliseconds(now), (uint)(Interlocked.Add(ref s_sequence, count) - count + 1));

    private static long Milliseconds(DateTimeOffset now)
    {
        var ms = now.ToUnixTimeMilliseconds();
        // Never let the clock run backwards inside one process, so ids stay sorted.
        var last = Volatile.Read(ref s_lastMs);
        while (ms > last)
        {
            var seen = Interlocked.CompareExchange(ref s_lastMs, ms, last);
            if (seen == last)
            {
                // Stryker disable once Statement : without the break the next compare-exchange fails (s_lastMs already holds ms or more), last takes that value and the loop ends; same result.
                break;
            }

            last = seen;
        }

        return Math.Max(ms, Volatile.Read(ref s_lastMs));
    }
}

/// <summary>A message id as numbers (16 bytes, no allocation); <see cref="ToString"/> gives its text form.</summary>
internal readonly record struct MessageKey(long Ms, uint Seq)
{
    public override string ToString() => string.Create(MessageId.Length, this, static (span, k) =>
    {
        k.Ms.TryFormat(span[..12], out _, "x12");
        k.Seq.TryFormat(span[12..], out _, "x8");
    });

    /// <summary>Parses exactly the text form (20 lowercase hex digits); anything else is no id of ours.</summary>
    public static bool TryParse(ReadOnlySpan<char> id, out MessageKey key)
    {
        key = default;
        if (id.Length != MessageId.Length)
        {
            return false;
        }

        ulong ms = 0;
        uint seq = 0;
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            uint digit = c is >= '0' and <= '9' ? (uint)(c - '0') : c is >= 'a' and <= 'f' ? (uint)(c - 'a' + 10) : 16;
            if (digit == 16)
            {
                return false;
            }

            if (i < 12)
            {
                ms = (ms << 4) | digit;
            }
            else
            {
                seq = (seq << 4) | digit;
            }
        }

        key = new MessageKey((long)ms, seq);
        return true;
    }
}
