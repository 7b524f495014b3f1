using Microsoft.Extensions.Logging;
using Npgsql;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// The replica's one named background thread for the database: it LISTENs for enqueue and pause notifications
/// (waking the queue's waiting workers), renews the heartbeat, puts back what dead peers had claimed, and reads
/// the paused flags at every fallback poll. A lost connection is reopened with a bounded back-off.
/// </summary>
internal sealed partial class NodeMonitor : IDisposable
{
    private readonly PostgresStorage _storage;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Its named background thread, watched by the engine's supervisor.</summary>
    internal Thread Thread { get; }

    public NodeMonitor(PostgresStorage storage, ILogger logger)
    {
        _storage = storage;
        _logger = logger;
        Thread = new Thread(Run) { Name = "queueapi postgres node", IsBackground = true };
        Thread.Start();
    }

    /// <summary>Puts back the claims of dead replicas, exactly once whoever else tries at the same time.</summary>
    public void Rescue(NpgsqlConnection conn)
    {
        var o = _storage.Options;
        var stores = _storage.Stores.ToArray();
        using var cmd = Sql.Command(
            conn, _storage.Sql.Rescue, null, _storage.NodeId, o.LeaseTimeout, o.MaxCrashes, _storage.Time.GetUtcNow().UtcTicks,
            stores.Select(s => s.QueueName).ToArray(), stores.Select(s => s.Options.MaxCrashes).ToArray());
        using var r = cmd.ExecuteReader();
        if (r.Read() && r.GetInt32(0) > 0)
        {
            LogRescued(_logger, r.GetInt32(0), r.GetInt32(1));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        Thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        NpgsqlConnection? conn = null;
        var nextBeat = 0L;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (conn is null)
                {
                    conn = _storage.Db.OpenConnection();
                    conn.Notification += OnNotification;
                    using (var listen = Sql.Command(conn, $"LISTEN {_storage.Channel}"))
                    {
                        listen.ExecuteNonQuery();
                    }

                    // Notifications sent while we were away are lost: every waiting worker looks again.
                    foreach (var store in _storage.Stores)
                    {
                        store.Wake();
                    }
                }

                if (Environment.TickCount64 >= nextBeat)
                {
                    Heartbeat(conn);
                    Rescue(conn);
                    using (var forget = Sql.Command(conn, _storage.Sql.ForgetNodes))
                    {
                        forget.ExecuteNonQuery();
                    }
                    nextBeat = Environment.TickCount64 + (long)_storage.Options.HeartbeatInterval.TotalMilliseconds;
                }

                RefreshPaused(conn);
                // Returns at a notification (handled on this thread) or after the fallback poll.
                conn.Wait(_storage.Options.PollInterval);
            }
#pragma warning disable CA1031 // The node thread outlives any database trouble: it reconnects after a bounded wait.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!Sql.IsOutage(ex))
                {
                    LogUnexpected(_logger, ex.Message, ex);
                }
                else
                {
                    _storage.ReportOutage(ex);
                }

                conn?.Dispose();
                conn = null;
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }

        conn?.Dispose();
    }

    private void Heartbeat(NpgsqlConnection conn)
    {
        var workers = string.Join(',', _storage.Stores.SelectMany(s => Enumerable.Range(1, s.Options.Workers).Select(i => $"{s.QueueName}-{i}")));
        using var cmd = Sql.Command(conn, _storage.Sql.Heartbeat, null, _storage.NodeId, workers);
        if (cmd.ExecuteScalar() is true)
        {
            // A peer presumed this replica dead (paused, partitioned) and put back its claims: the buffers are theirs now.
            LogLostLease(_logger, _storage.NodeId);
            foreach (var store in _storage.Stores)
            {
                store.DropBuffer();
            }
        }
    }

    private void RefreshPaused(NpgsqlConnection conn)
    {
        var readAt = Environment.TickCount64;
        using var cmd = Sql.Command(conn, _storage.Sql.Paused);
        using var r = cmd.ExecuteReader();
        var paused = new Dictionary<string, bool>(StringComparer.Ordinal);
        while (r.Read())
        {
            paused[r.GetString(0)] = r.GetBoolean(1);
        }

        foreach (var store in _storage.Stores)
        {
            store.SetPausedFromDatabase(paused.GetValueOrDefault(store.QueueName), readAt);
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        var payload = e.Payload;
        var name = payload.StartsWith("p:", StringComparison.Ordinal) ? payload[2..] : payload;
        foreach (var store in _storage.Stores)
        {
            if (store.QueueName == name)
            {
                store.Wake(); // A pause change is read by RefreshPaused right after this Wait returns.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Put back {Count} messages claimed by dead replicas ({DeadLettered} dead-lettered by the crash rule).")]
    private static partial void LogRescued(ILogger logger, int count, int deadLettered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} was presumed dead by a peer (its heartbeat was late past the lease); what it had claimed was put back. Its late reports change nothing.")]
    private static partial void LogLostLease(ILogger logger, long node);

    [LoggerMessage(Level = LogLevel.Error, Message = "PostgreSQL node thread: unexpected error ({Reason}); reconnecting.")]
    private static partial void LogUnexpected(ILogger logger, string reason, Exception ex);
}
