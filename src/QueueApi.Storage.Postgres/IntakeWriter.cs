using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// Group commit for enqueues: one named thread takes every request waiting, and commits them in one transaction
/// (capacity checked per queue under an advisory lock, one multi-row insert, the accepted counters, one
/// notification per queue) before any of them is answered. A batch request is all or none inside it.
/// </summary>
internal sealed partial class IntakeWriter : IDisposable
{
    // Messages per transaction: enough to amortise the round trips, small enough to keep the answer quick.
    private const int MaxMessages = 4096;

    private readonly NpgsqlDataSource _db;
    private readonly Sql _sql;
    private readonly long _node;
    private readonly string _channel;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<Request> _requests = new();
    private readonly ManualResetEventSlim _signal = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    /// <summary>Its named background thread, watched by the engine's supervisor.</summary>
    internal Thread Thread => _thread;
    private readonly Action<bool> _healthy;

    private readonly Func<bool> _flushReports;

    public IntakeWriter(NpgsqlDataSource db, Sql sql, long node, string channel, ILogger logger, Action<bool> healthy, Func<bool> flushReports)
    {
        _flushReports = flushReports;
        _db = db;
        _sql = sql;
        _node = node;
        _channel = channel;
        _logger = logger;
        _healthy = healthy;
        _thread = new Thread(Run) { Name = "queueapi postgres intake", IsBackground = true };
        _thread.Start();
    }

    public Task<EnqueueStatus> Submit(PostgresQueueStore store, IReadOnlyList<QueueMessage> messages)
    {
        var request = new Request(store, messages);
        _requests.Enqueue(request);
        if (!_signal.IsSet)
        {
            _signal.Set();
        }

        return request.Done.Task;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _signal.Set();
        _thread.Join(TimeSpan.FromSeconds(5));
        // Anything still waiting is answered, never left hanging.
        while (_requests.TryDequeue(out var r))
        {
            r.Done.TrySetResult(EnqueueStatus.StorageUnavailable);
        }
    }

    private void Run()
    {
        var batch = new List<Request>();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _signal.Wait(TimeSpan.FromSeconds(1), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            _signal.Reset();
            while (true)
            {
                batch.Clear();
                var count = 0;
                while (count < MaxMessages && _requests.TryDequeue(out var r))
                {
                    batch.Add(r);
                    count += r.Messages.Count;
                }

                if (batch.Count == 0)
                {
                    break;
                }

                Commit(batch);
            }
        }
    }

    private void Commit(List<Request> batch)
    {
        try
        {
            // A queue that looks full may only be waiting for this replica's finished reports: write them, look again.
            var decided = Write(batch, mayRetry: true);
            if (decided is null)
            {
                _flushReports();
                decided = Write(batch, mayRetry: false)!;
            }
            _healthy(true);
            foreach (var (r, status) in decided)
            {
                r.Done.TrySetResult(status);
            }

            foreach (var store in batch.Select(r => r.Store).Distinct())
            {
                store.Wake(); // Local workers need not wait for the notification's round trip.
            }
        }
#pragma warning disable CA1031 // The writer thread answers every request, whatever went wrong; it must not die.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _healthy(!Sql.IsOutage(ex));
            LogCommitFailed(_logger, batch.Count, ex.Message, ex);
            foreach (var r in batch)
            {
                r.Done.TrySetResult(EnqueueStatus.StorageUnavailable);
            }
        }
    }

    /// <summary>Null, with nothing written, when a request found its queue full and <paramref name="mayRetry"/>.</summary>
    private List<(Request, EnqueueStatus)>? Write(List<Request> batch, bool mayRetry)
    {
        var queues = batch.Select(r => r.Store.QueueName).Distinct(StringComparer.Ordinal).ToArray();
        using var conn = _db.OpenConnection();
        using var tx = conn.BeginTransaction();
        using (var lockCmd = Sql.Command(conn, _sql.LockQueues, tx, queues.Select(q => Sql.LockKey("queue", q)).ToArray()))
        {
            lockCmd.ExecuteNonQuery();
        }

        var room = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var depth = Sql.Command(conn, _sql.Depths, tx, (object)queues))
        using (var r = depth.ExecuteReader())
        {
            while (r.Read())
            {
                room[r.GetString(0)] = r.GetInt64(1);
            }
        }

        // Each request whole or not at all, in arrival order, while its queue has room.
        var decided = new List<(Request, EnqueueStatus)>(batch.Count);
        var ids = new List<string>();
        var names = new List<string>();
        var payloads = new List<byte[]>();
        var times = new List<long>();
        foreach (var req in batch)
        {
            var name = req.Store.QueueName;
            if (!req.Store.IsAccepting)
            {
                decided.Add((req, EnqueueStatus.ShuttingDown));
                continue;
            }

            if (room[name] + req.Messages.Count > req.Store.Capacity)
            {
                if (mayRetry)
                {
                    return null;
                }

                decided.Add((req, EnqueueStatus.Full));
                continue;
            }

            room[name] += req.Messages.Count;
            foreach (var m in req.Messages)
            {
                ids.Add(m.Id);
                names.Add(name);
                payloads.Add(m.Payload);
                times.Add(m.EnqueuedAtTicks);
            }

            decided.Add((req, EnqueueStatus.Accepted));
        }

        if (ids.Count > 0)
        {
            using var write = new NpgsqlBatch(conn, tx);
            write.BatchCommands.Add(Batch(_sql.Insert, _node, ids.ToArray(), names.ToArray(), Bytea(payloads), times.ToArray()));
            write.BatchCommands.Add(Batch(_sql.CountAccepted, _node, names.ToArray()));
            write.BatchCommands.Add(Batch(_sql.Notify, _channel, names.Distinct(StringComparer.Ordinal).ToArray()));
            write.ExecuteNonQuery();
        }

        tx.Commit();
        return decided;
    }

    private static NpgsqlParameter Bytea(List<byte[]> payloads) =>
        new() { Value = payloads.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea };

    private static NpgsqlBatchCommand Batch(string sql, params object[] args)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(a as NpgsqlParameter ?? new NpgsqlParameter { Value = a });
        }

        return cmd;
    }

    private sealed class Request(PostgresQueueStore store, IReadOnlyList<QueueMessage> messages)
    {
        public PostgresQueueStore Store { get; } = store;

        public IReadOnlyList<QueueMessage> Messages { get; } = messages;

        public TaskCompletionSource<EnqueueStatus> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL: {Requests} enqueue requests could not be committed ({Reason}); answered 503.")]
    private static partial void LogCommitFailed(ILogger logger, int requests, string reason, Exception ex);
}
