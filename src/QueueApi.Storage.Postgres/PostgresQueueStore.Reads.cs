using System.Data;
using Npgsql;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>Reads, stop and operator actions: shared by every replica, so they ask the database.</summary>
internal sealed partial class PostgresQueueStore
{
    private const string DeletedReason = "deleted from dead letters";

    // A reader waits this long for this replica's pending reports, then reads what is committed; not at all while
    // the database is away (the reports wait for it, and a read would fail anyway).
    private TimeSpan FlushWait => _storage.InOutage ? TimeSpan.Zero : TimeSpan.FromSeconds(2);

    private volatile QueueCounts _lastCounts = new(0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>());

    public int QueuedCount
    {
        get
        {
            _storage.Outcomes.Flush(FlushWait);
            return Read(conn => Scalar<int>(conn, _storage.Sql.Features.WaitingCount, QueueName, _storage.Time.GetUtcNow().UtcTicks), 0);
        }
    }

    public int DeadLetterCount => Count(_storage.Sql.DeadLetterCount);

    public bool TryGet(string id, out QueueMessage? message)
    {
        _storage.Outcomes.Flush(FlushWait);
        message = Read(conn =>
        {
            using var cmd = Sql.Command(conn, _storage.Sql.Get, null, QueueName, id);
            using var r = cmd.ExecuteReader();
            return r.Read() ? Rows.Read(r, QueueName, _storage.Time.GetUtcNow().UtcTicks) : null;
        }, null, throwOnOutage: true);
        return message is not null;
    }

    /// <summary>
    /// The books; while the database is away, the last ones read (the engine reads them for metrics, the dashboard
    /// and the shutdown report, none of which may fail for an outage).
    /// </summary>
    public QueueCounts Counts()
    {
        _storage.Outcomes.Flush(FlushWait);
        return Read(conn =>
        {
            // One snapshot for all three reads, so the books balance whatever the other replicas do meanwhile.
            using var tx = conn.BeginTransaction(IsolationLevel.RepeatableRead);
            using var batch = new NpgsqlBatch(conn, tx);
            var books = _storage.Sql.Books;
            batch.BatchCommands.Add(Cmd(books[0], QueueName));
            batch.BatchCommands.Add(Cmd(books[1], QueueName, _storage.Time.GetUtcNow().UtcTicks));
            batch.BatchCommands.Add(Cmd(books[2], QueueName));

            using var r = batch.ExecuteReader();
            r.Read();
            var (accepted, succeeded, failed, dead, dropped) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4));
            r.NextResult();
            r.Read();
            var (queued, inFlight, retrying, scheduled) = (r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetInt32(3));
            r.NextResult();
            var reasons = new Dictionary<string, long>(StringComparer.Ordinal);
            while (r.Read())
            {
                reasons[r.GetString(0)] = r.GetInt64(1);
            }

            // Handed to a worker here but not yet started: between buckets, as in every store (still queued in the table).
            queued = Math.Max(0, queued - HandedOutNotStarted());
            return _lastCounts = new QueueCounts(accepted, succeeded, failed, dead, dropped, queued, inFlight, retrying, reasons, scheduled);
        }, _lastCounts);
    }

    public IReadOnlyList<QueueMessage> DeadLetters(int limit)
    {
        _storage.Outcomes.Flush(FlushWait);
        var now = _storage.Time.GetUtcNow().UtcTicks;
        return Read<IReadOnlyList<QueueMessage>>(conn =>
        {
            using var cmd = Sql.Command(conn, _storage.Sql.DeadLetters, null, QueueName, limit);
            using var r = cmd.ExecuteReader();
            var list = new List<QueueMessage>();
            while (r.Read())
            {
                list.Add(Rows.Read(r, QueueName, now));
            }

            return list;
        }, [], throwOnOutage: true);
    }

    public StopLeftover Settle(string reason)
    {
        // Durable and shared: nothing is dropped. Released reports first, then this replica's unstarted claims.
        _storage.Outcomes.Flush(FlushWait);
        DropBuffer();
        return Read(conn =>
        {
            using (var unclaim = Sql.Command(conn, _storage.Sql.Unclaim, null, _storage.NodeId, QueueName))
            {
                unclaim.ExecuteNonQuery();
            }

            return new StopLeftover(0, Scalar<int>(conn, _storage.Sql.QueuedCount, QueueName));
        }, new StopLeftover(0, 0));
    }

    public void SetPaused(bool paused)
    {
        // No read of the stored flag may undo this change while it commits (a read begun before the commit would
        // find the old value): until then every read counts as stale.
        Volatile.Write(ref _pausedSetAt, long.MaxValue);
        _paused = paused;
        Wake();
        try
        {
            Read(conn =>
            {
                using var batch = new NpgsqlBatch(conn);
                batch.BatchCommands.Add(Cmd(_storage.Sql.SetPaused, QueueName, paused));
                batch.BatchCommands.Add(Cmd(_storage.Sql.Notify, _storage.Channel, new[] { "p:" + QueueName }));
                batch.ExecuteNonQuery();
                return true;
            }, false, throwOnOutage: true);
        }
        finally
        {
            // Reads of the flag that began before the commit are stale: they must not undo this change.
            Volatile.Write(ref _pausedSetAt, Environment.TickCount64);
        }
    }

    public async ValueTask<DeadLetterResult> RequeueDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        await Task.Yield(); // The database round trips run off the request's thread.
        return DeadLetterAction(id, requeue: true);
    }

    public async ValueTask<DeadLetterResult> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        await Task.Yield();
        return DeadLetterAction(id, requeue: false);
    }

    private DeadLetterResult DeadLetterAction(string id, bool requeue)
    {
        _storage.Outcomes.Flush(FlushWait);
        return Read(conn =>
        {
            using var tx = conn.BeginTransaction();
            var sql = _storage.Sql;
            if (!requeue)
            {
                using var delete = Sql.Command(conn, sql.Delete, tx, QueueName, id, _storage.NodeId, DeletedReason);
                var deleted = delete.ExecuteScalar() is not null;
                tx.Commit();
                return deleted ? DeadLetterResult.Done : DeadLetterResult.NotFound;
            }

            using (var lockQueue = Sql.Command(conn, sql.LockQueues, tx, new[] { Sql.LockKey("queue", QueueName) }))
            {
                lockQueue.ExecuteNonQuery();
            }

            using (var exists = Sql.Command(conn, sql.IsDeadLetter, tx, QueueName, id))
            {
                if (exists.ExecuteScalar() is null)
                {
                    return DeadLetterResult.NotFound;
                }
            }

            if (!_accepting)
            {
                return DeadLetterResult.ShuttingDown;
            }

            using (var depth = Sql.Command(conn, sql.Depths, tx, (object)new[] { QueueName }))
            using (var r = depth.ExecuteReader())
            {
                r.Read();
                if (r.GetInt64(1) + 1 > Capacity)
                {
                    return DeadLetterResult.QueueFull;
                }
            }

            using (var move = Sql.Command(conn, sql.Requeue, tx, QueueName, id, _storage.Time.GetUtcNow().UtcTicks, _storage.NodeId))
            {
                move.ExecuteNonQuery();
            }

            using (var notify = Sql.Command(conn, sql.Notify, tx, _storage.Channel, new[] { QueueName }))
            {
                notify.ExecuteNonQuery();
            }

            tx.Commit();
            return DeadLetterResult.Done;
        }, DeadLetterResult.StorageUnavailable);
    }

    private int HandedOutNotStarted()
    {
        var n = 0;
        foreach (var m in _claims.Keys)
        {
            n += m.Status == MessageStatus.Queued ? 1 : 0;
        }

        return n;
    }

    /// <summary>A count for gauges and lists: this replica's reports first; 0 while the database is away.</summary>
    private int Count(string sql)
    {
        _storage.Outcomes.Flush(FlushWait);
        return Read(conn => Scalar<int>(conn, sql, QueueName), 0);
    }

    private static NpgsqlBatchCommand Cmd(string sql, params object[] args)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }

        return cmd;
    }

    private static T Scalar<T>(NpgsqlConnection conn, string sql, params object[] args)
    {
        using var cmd = Sql.Command(conn, sql, null, args);
        return (T)cmd.ExecuteScalar()!;
    }

    /// <summary>Runs a read on a pooled connection; a lost database gives <paramref name="fallback"/> or a <see cref="StorageUnavailableException"/>.</summary>
    private T Read<T>(Func<NpgsqlConnection, T> read, T fallback, bool throwOnOutage = false)
    {
        try
        {
            using var conn = _storage.Db.OpenConnection();
            return read(conn);
        }
        catch (Exception ex) when (Sql.IsOutage(ex))
        {
            _storage.ReportOutage(ex);
            if (throwOnOutage)
            {
                throw new StorageUnavailableException($"PostgreSQL cannot be reached: {ex.Message}", ex);
            }

            return fallback;
        }
    }
}
