using Npgsql;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// The idempotency keys of one group commit, decided inside its transaction while it holds the queues' advisory
/// locks: every replica's intake of a queue takes the same lock, so a key's check and its first use are one step
/// for all of them (a key used through replica A is a repeat through replica B). A repeat of a key within the
/// window stores nothing and names the first message; the same key with another body is a conflict.
/// </summary>
internal sealed class IdempotencyCheck
{
    private readonly Dictionary<(string Queue, string Key), Hit> _stored = [];
    private readonly Dictionary<(string Queue, string Key), QueueMessage> _thisCommit = [];
    private readonly long _now;

    public IdempotencyCheck(long now) => _now = now;

    /// <summary>The first uses this commit makes, to store with it.</summary>
    public List<(string Queue, QueueMessage Message, long Expires)> Added { get; } = [];

    /// <summary>The statement that reads the live keys among the messages'; null when no message carries one.</summary>
    public NpgsqlBatchCommand? Find(FeatureSql sql, IEnumerable<(string Queue, QueueMessage Message)> messages)
    {
        var keyed = messages.Where(x => x.Message.IdempotencyKey is not null).ToList();
        return keyed.Count == 0
            ? null
            : Sql.BatchCommand(sql.FindKeys, keyed.Select(x => x.Queue).ToArray(), keyed.Select(x => x.Message.IdempotencyKey!).ToArray(), _now);
    }

    /// <summary>Reads the result of <see cref="Find"/>.</summary>
    public void ReadStored(NpgsqlDataReader r)
    {
        while (r.Read())
        {
            _stored[(r.GetString(0), r.GetString(1))] = new Hit(r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), (MessageStatus)r.GetInt16(4));
        }
    }

    /// <summary>
    /// Sorts one request's messages: repeats are marked on their messages, the rest go to <paramref name="fresh"/>.
    /// Accepted (something to store), Duplicate (all repeats) or KeyConflict (nothing may be stored).
    /// </summary>
    public EnqueueStatus Sort(string queue, IReadOnlyList<QueueMessage> messages, List<QueueMessage> fresh)
    {
        fresh.Clear();
        Dictionary<string, QueueMessage>? inRequest = null;
        foreach (var m in messages)
        {
            if (m.IdempotencyKey is not { } key)
            {
                fresh.Add(m);
            }
            else if (TryEarlier(queue, key, inRequest, out var earlier))
            {
                if (earlier.RequestHash != m.RequestHash)
                {
                    return EnqueueStatus.KeyConflict;
                }

                m.MarkReplayOf(earlier.Id, earlier.DueAtTicks > _now ? MessageStatus.Scheduled : MessageStatus.Queued);
            }
            else if (_stored.TryGetValue((queue, key), out var hit))
            {
                if (hit.Hash != m.RequestHash)
                {
                    return EnqueueStatus.KeyConflict;
                }

                m.MarkReplayOf(hit.Id, hit.Status);
            }
            else
            {
                (inRequest ??= new(StringComparer.Ordinal))[key] = m;
                fresh.Add(m);
            }
        }

        return fresh.Count == 0 ? EnqueueStatus.Duplicate : EnqueueStatus.Accepted;
    }

    /// <summary>The request whose fresh messages these are was accepted: its keys are used from now on.</summary>
    public void Use(string queue, List<QueueMessage> fresh, TimeSpan window)
    {
        foreach (var m in fresh)
        {
            if (m.IdempotencyKey is { } key)
            {
                _thisCommit[(queue, key)] = m;
                Added.Add((queue, m, _now + window.Ticks));
            }
        }
    }

    private bool TryEarlier(string queue, string key, Dictionary<string, QueueMessage>? inRequest, out QueueMessage earlier)
    {
        if (inRequest is not null && inRequest.TryGetValue(key, out var m))
        {
            earlier = m;
            return true;
        }

        return _thisCommit.TryGetValue((queue, key), out earlier!);
    }

    private sealed record Hit(string Id, string? Hash, MessageStatus Status);
}
