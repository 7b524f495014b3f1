using Microsoft.Data.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>What recovery did to one message a dead process left in flight.</summary>
public readonly record struct RecoveredCrash(string Queue, long IdMs, uint IdSeq, int Crashes, StoredStatus Now, string? Reason);

/// <summary>
/// Runs once at start-up, before any worker: a message left <c>processing</c> was in a handler when the process
/// died. It goes back to the queue with its attempt counted and one more crash, or, at the queue's
/// <see cref="CrashPolicy.MaxCrashes"/>, to the dead letters as poison, so a message that kills its worker cannot
/// crash-loop the pod. Messages left <c>retrying</c> keep their status and their next attempt time. One transaction
/// per queue, run when the queue opens.
/// </summary>
public static class StartupRecovery
{
    public static IReadOnlyList<RecoveredCrash> Run(SqliteDatabase database, string queue, CrashPolicy policy, long nowTicks)
    {
        using var connection = database.OpenConnection();
        using var transaction = connection.BeginTransaction();
        var found = new List<(long Ms, uint Seq, int Attempts, int Crashes)>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id_ms, id_seq, attempts, crashes FROM messages WHERE queue = $q AND status = 1";
            select.Parameters.AddWithValue("$q", queue);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                found.Add((reader.GetInt64(0), (uint)reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3) + 1));
            }
        }

        var results = new List<RecoveredCrash>(found.Count);
        using var requeue = Command(connection, transaction, "UPDATE messages SET status = 0, crashes = $c, worker = NULL WHERE queue = $q AND id_ms = $ms AND id_seq = $seq");
        using var dead = Command(connection, transaction, "UPDATE messages SET status = 5, crashes = $c, worker = NULL, completed_at = $t, error = $e WHERE queue = $q AND id_ms = $ms AND id_seq = $seq");
        using var books = Command(connection, transaction, "INSERT INTO books (queue, counter, value) VALUES ($q, $counter, 1) ON CONFLICT (queue, counter) DO UPDATE SET value = value + 1");
        foreach (var (ms, seq, attempts, crashes) in found)
        {
            var reason = crashes >= policy.MaxCrashes ? CrashPolicy.PoisonReason(crashes)
                : attempts >= policy.MaxAttempts ? CrashPolicy.ExhaustedReason(attempts)
                : null;
            var command = reason is null ? requeue : dead;
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$q", queue);
            command.Parameters.AddWithValue("$ms", ms);
            command.Parameters.AddWithValue("$seq", (long)seq);
            command.Parameters.AddWithValue("$c", crashes);
            if (reason is not null)
            {
                command.Parameters.AddWithValue("$t", nowTicks);
                command.Parameters.AddWithValue("$e", reason);
                books.Parameters.Clear();
                books.Parameters.AddWithValue("$q", queue);
                books.Parameters.AddWithValue("$counter", WriteOp.DeadLettered);
                books.ExecuteNonQuery();
            }

            command.ExecuteNonQuery();
            results.Add(new RecoveredCrash(queue, ms, seq, crashes, reason is null ? StoredStatus.Queued : StoredStatus.DeadLettered, reason));
        }

        transaction.Commit();
        return results;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
