using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// Keeps each queue's finished rows and dead letters within its retention, for the writer's thread: after a group,
/// the oldest rows of at most one queue over its limit are deleted, so the file stops growing and the writer's
/// pauses stay short. Counts come from the <see cref="RowWriter"/>, which tracks what each group finished.
/// </summary>
internal sealed class RetentionPruner
{
    private const int MinPruneSlack = 64;

    private readonly ConcurrentDictionary<string, (int Finished, int Dead)> _retain = new(StringComparer.Ordinal);
    private readonly string _path;
    private readonly SqliteConnection _connection;
    private readonly RowWriter _rows;

    public RetentionPruner(string path, SqliteConnection connection, RowWriter rows)
    {
        _path = path;
        _connection = connection;
        _rows = rows;
        LoadFinishedCounts();
    }

    /// <summary>Keeps at most <paramref name="finished"/> finished rows and <paramref name="dead"/> dead letters of the queue.</summary>
    public void SetRetention(string queue, int finished, int dead) => _retain[queue] = (finished, dead);

    /// <summary>Prunes one queue over its limit: null if none was, true once its rows are deleted, false (and why) if the delete failed.</summary>
    public bool? PruneOne(out string? fault)
    {
        fault = null;
        return Prune(_rows.Finished, dead: false, ref fault) ?? Prune(_rows.Dead, dead: true, ref fault);
    }

    private bool? Prune(Dictionary<string, long> counts, bool dead, ref string? fault)
    {
        foreach (var (queue, stored) in counts)
        {
            var keep = _retain.TryGetValue(queue, out var limits) ? (dead ? limits.Dead : limits.Finished) : int.MaxValue;
            var slack = Math.Max(MinPruneSlack, keep / 8);
            if (stored <= (long)keep + slack)
            {
                continue;
            }

            try
            {
                using var command = _connection.CreateCommand();
                command.CommandText = $"""
                    DELETE FROM messages WHERE queue = $q AND (id_ms, id_seq) IN (
                        SELECT id_ms, id_seq FROM messages WHERE queue = $q AND {(dead ? "status = 5" : "status IN (3, 4, 6)")} ORDER BY completed_at LIMIT $n)
                    """;
                command.Parameters.AddWithValue("$q", queue);
                command.Parameters.AddWithValue("$n", stored - keep);
                counts[queue] = stored - command.ExecuteNonQuery();
                return true;
            }
            catch (SqliteException ex)
            {
                // A full disk can refuse even a delete; the rows stay and the next group tries again.
                fault = $"The database file '{_path}' could not be pruned: {ex.Message}";
                return false;
            }
        }

        return null;
    }

    private void LoadFinishedCounts()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT queue, count(*), 0 FROM messages WHERE status IN (3, 4, 6) GROUP BY queue
            UNION ALL SELECT queue, count(*), 1 FROM messages WHERE status = 5 GROUP BY queue
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var target = reader.GetInt32(2) == 0 ? _rows.Finished : _rows.Dead;
            target[reader.GetString(0)] = reader.GetInt64(1);
        }
    }
}
