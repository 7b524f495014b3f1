using Npgsql;
using QueueApi.Engine.Messages;

namespace QueueApi.Storage.Postgres;

/// <summary>Status codes in the table, and a message built back from its row.</summary>
internal static class Rows
{
    /// <summary>Claimed into a replica's local buffer, not started: shown and counted as queued.</summary>
    public const short Claimed = 7;

    public static short Code(MessageStatus status) => (short)status;

    public static MessageStatus Status(short code) => code == Claimed ? MessageStatus.Queued : (MessageStatus)code;

    /// <summary>
    /// Reads <see cref="Sql.MessageColumns"/> starting at column <paramref name="at"/>; a ready row not due by
    /// <paramref name="now"/> (UTC ticks, the store's clock) is shown scheduled.
    /// </summary>
    public static QueueMessage Read(NpgsqlDataReader r, string queue, long now, int at = 0)
    {
        var id = r.GetString(at);
        if (!MessageKey.TryParse(id, out var key))
        {
            throw new InvalidDataException($"The stored message id '{id}' is not one of ours.");
        }

        var code = r.GetInt16(at + 2);
        var due = OptionalTime(r, at + 10);
        var m = new QueueMessage(key, queue, r.GetFieldValue<byte[]>(at + 1), Time(r.GetInt64(at + 5)))
        {
            Status = code == 0 && due?.UtcTicks > now ? MessageStatus.Scheduled : Status(code),
            Attempts = r.GetInt32(at + 3),
            WorkerId = r.IsDBNull(at + 4) ? null : r.GetString(at + 4),
            StartedAt = OptionalTime(r, at + 6),
            CompletedAt = OptionalTime(r, at + 7),
            NextAttemptAt = OptionalTime(r, at + 8),
            Error = r.IsDBNull(at + 9) ? null : r.GetString(at + 9),
            DueAt = due,
            Priority = r.GetInt16(at + 11),
            TraceParent = r.IsDBNull(at + 12) ? null : r.GetString(at + 12),
        };
        return m;
    }

    public static long? Ticks(DateTimeOffset? time) => time?.UtcTicks;

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private static DateTimeOffset? OptionalTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetInt64(i));
}
