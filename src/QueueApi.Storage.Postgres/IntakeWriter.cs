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
    private readonly Action<bool> _healthy;

    private readonly Func<bool> _flushReports;
    private readonly TimeProvider _time;

    /// <summary>Its named background thread, watched by the engine's supervisor.</summary>
    internal Thread Thread { get; }

    public IntakeWriter(NpgsqlDataSource db, Sql sql, long node, string channel, TimeProvider time, ILogger logger, Action<bool> healthy, Func<bool> flushReports)
    {
        _time = time;
        _flushReports = flushReports;
        _db = db;
        _sql = sql;
        _node = node;
        _channel = channel;
        _logger = logger;
        _healthy = healthy;
        Thread = new Thread(Run) { Name = "queueapi postgres intake", IsBackground = true };
        Thread.Start();
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
        Thread.Join(TimeSpan.FromSeconds(5));
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
            // Before any sender hears: claims must see what outranks their buffer, and the due times are armed.
            foreach (var group in decided.Where(d => d.Item2 == EnqueueStatus.Accepted).GroupBy(d => d.Item1.Store))
            {
                var fresh = group.SelectMany(d => d.Item1.Fresh).ToList();
                group.Key.LowerFloors(fresh);
                var now = _time.GetUtcNow().UtcTicks;
                var due = fresh.Where(m => m.DueAtTicks > now).Select(m => m.DueAtTicks).DefaultIfEmpty(0).Min();
                group.Key.Committed(fresh.Min(m => m.Priority), fresh.Max(m => m.Priority), due);
            }

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
        var now = _time.GetUtcNow().UtcTicks;
        var keys = new IdempotencyCheck(now);
        var room = new Dictionary<string, long>(StringComparer.Ordinal);
        // One round trip: the queues' locks, then (under them) their depths and the live keys asked for.
        using (var read = new NpgsqlBatch(conn, tx))
        {
            read.BatchCommands.Add(Batch(_sql.LockQueues, queues.Select(q => Sql.LockKey("queue", q)).ToArray()));
            read.BatchCommands.Add(Batch(_sql.Depths, (object)queues));
            var findKeys = keys.Find(_sql.Features, batch.SelectMany(r => r.Messages.Select(m => (r.Store.QueueName, m))));
            if (findKeys is not null)
            {
                read.BatchCommands.Add(findKeys);
            }

            using var r = read.ExecuteReader();
            r.NextResult();
            while (r.Read())
            {
                room[r.GetString(0)] = r.GetInt64(1);
            }

            if (findKeys is not null)
            {
                r.NextResult();
                keys.ReadStored(r);
            }
        }

        // Each request whole or not at all, in arrival order, while its queue has room; repeats of a key store nothing.
        var decided = new List<(Request, EnqueueStatus)>(batch.Count);
        var rows = new InsertRows();
        foreach (var req in batch)
        {
            var name = req.Store.QueueName;
            if (!req.Store.IsAccepting)
            {
                decided.Add((req, EnqueueStatus.ShuttingDown));
                continue;
            }

            var sorted = keys.Sort(name, req.Messages, req.Fresh);
            if (sorted != EnqueueStatus.Accepted)
            {
                decided.Add((req, sorted));
                continue;
            }

            if (room[name] + req.Fresh.Count > req.Store.Capacity)
            {
                if (mayRetry)
                {
                    return null;
                }

                decided.Add((req, EnqueueStatus.Full));
                continue;
            }

            room[name] += req.Fresh.Count;
            keys.Use(name, req.Fresh, req.Store.Options.IdempotencyWindow);
            rows.Add(name, req.Fresh);
            decided.Add((req, EnqueueStatus.Accepted));
        }

        if (rows.Ids.Count > 0)
        {
            using var write = new NpgsqlBatch(conn, tx);
            write.BatchCommands.Add(Batch(
                _sql.Insert, _node, rows.Ids.ToArray(), rows.Names.ToArray(), Bytea(rows.Payloads), rows.Times.ToArray(),
                rows.Due.ToArray(), rows.Priorities.ToArray(), rows.Traces.ToArray(), rows.Keys.ToArray()));
            write.BatchCommands.Add(Batch(_sql.CountAccepted, _node, rows.Names.ToArray()));
            write.BatchCommands.Add(Batch(_sql.Notify, _channel, rows.Names.Distinct(StringComparer.Ordinal).ToArray()));
            if (keys.Added.Count > 0)
            {
                var added = keys.Added;
                write.BatchCommands.Add(Batch(_sql.Features.ForgetKeys, added.Select(k => k.Queue).Distinct(StringComparer.Ordinal).ToArray(), now));
                write.BatchCommands.Add(Batch(
                    _sql.Features.AddKeys, added.Select(k => k.Queue).ToArray(), added.Select(k => k.Message.IdempotencyKey!).ToArray(),
                    added.Select(k => k.Message.Id).ToArray(), added.Select(k => k.Message.RequestHash).ToArray(), added.Select(k => k.Expires).ToArray()));
            }

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

    /// <summary>The columns of the rows one commit inserts, one list each (sent as arrays, unnested by the insert).</summary>
    private sealed class InsertRows
    {
        public List<string> Ids { get; } = [];

        public List<string> Names { get; } = [];

        public List<byte[]> Payloads { get; } = [];

        public List<long> Times { get; } = [];

        public List<long?> Due { get; } = [];

        public List<short> Priorities { get; } = [];

        public List<string?> Traces { get; } = [];

        public List<string?> Keys { get; } = [];

        public void Add(string queue, List<QueueMessage> messages)
        {
            foreach (var m in messages)
            {
                Ids.Add(m.Id);
                Names.Add(queue);
                Payloads.Add(m.Payload);
                Times.Add(m.EnqueuedAtTicks);
                Due.Add(m.DueAtTicks > 0 ? m.DueAtTicks : null);
                Priorities.Add((short)m.Priority);
                Traces.Add(m.TraceParent);
                Keys.Add(m.IdempotencyKey);
            }
        }
    }

    private sealed class Request(PostgresQueueStore store, IReadOnlyList<QueueMessage> messages)
    {
        public PostgresQueueStore Store { get; } = store;

        public IReadOnlyList<QueueMessage> Messages { get; } = messages;

        /// <summary>Its messages that are not repeats of a key: what it stores if accepted.</summary>
        public List<QueueMessage> Fresh { get; } = [];

        public TaskCompletionSource<EnqueueStatus> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL: {Requests} enqueue requests could not be committed ({Reason}); answered 503.")]
    private static partial void LogCommitFailed(ILogger logger, int requests, string reason, Exception ex);
}
