using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using QueueApi.Engine.Messages;

namespace QueueApi.Storage.Postgres;

/// <summary>One outcome report, copied on the worker's thread when it was made (so the writer never reads a half-updated message).</summary>
internal sealed record Report(
    PostgresQueueStore Store, QueueMessage Message, long Pos, int Claims, short Status, int Attempts, string? Worker,
    long? StartedAt, long? NextAttemptAt, string? Error, long? CompletedAt)
{
    public bool IsFinal => Status is 3 or 4 or 5;
}

/// <summary>
/// Writes the workers' outcome reports in batches from one named thread: the latest report of each message per
/// batch, one guarded statement for all, the counters in the same statement. A failed batch is kept and tried
/// again (reports are idempotent: the guard lets a final status count once). Readers wait for the reports made
/// before their read (<see cref="Flush"/>), so this replica reads its own writes.
/// </summary>
internal sealed partial class OutcomeWriter : IDisposable
{
    private const int MaxReports = 8192;
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMilliseconds(200);

    private readonly NpgsqlDataSource _db;
    private readonly Sql _sql;
    private readonly long _node;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<object> _items = new();
    private readonly ManualResetEventSlim _signal = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<PostgresQueueStore, long> _lastPrune = [];
    private readonly Action<bool> _healthy;

    /// <summary>Its named background thread, watched by the engine's supervisor.</summary>
    internal Thread Thread { get; }

    public OutcomeWriter(NpgsqlDataSource db, Sql sql, long node, ILogger logger, Action<bool> healthy)
    {
        _db = db;
        _sql = sql;
        _node = node;
        _logger = logger;
        _healthy = healthy;
        Thread = new Thread(Run) { Name = "queueapi postgres outcomes", IsBackground = true };
        Thread.Start();
    }

    public void Add(Report report)
    {
        _items.Enqueue(report);
        if (!_signal.IsSet)
        {
            _signal.Set();
        }
    }

    /// <summary>Waits until every report made before this call is committed; false if that took longer than <paramref name="timeout"/>.</summary>
    public bool Flush(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return _items.IsEmpty;
        }

        var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _items.Enqueue(barrier);
        _signal.Set();
        return barrier.Task.Wait(timeout);
    }

    /// <summary>Stops after writing what is queued (bounded).</summary>
    public void Dispose()
    {
        Flush(TimeSpan.FromSeconds(3));
        _stop.Cancel();
        _signal.Set();
        Thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        var pending = new List<Report>();
        var barriers = new List<TaskCompletionSource>();
        var failing = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // After a failure, wait before trying again (bounded back-off); otherwise until there is work.
                _signal.Wait(failing ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(1), _stop.Token);
                if (failing)
                {
                    _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(500));
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            _signal.Reset();
            do
            {
                while (pending.Count < MaxReports && _items.TryDequeue(out var item))
                {
                    if (item is Report r)
                    {
                        pending.Add(r);
                    }
                    else
                    {
                        barriers.Add((TaskCompletionSource)item);
                        break; // Everything before the barrier is in this batch.
                    }
                }

                if (pending.Count == 0 && barriers.Count == 0)
                {
                    break;
                }

                failing = !TryWrite(pending, prune: barriers.Count > 0);
                if (failing)
                {
                    break;
                }

                pending.Clear();
                foreach (var b in barriers)
                {
                    b.TrySetResult();
                }

                barriers.Clear();
            }
            while (!_items.IsEmpty);
        }
    }

    private bool TryWrite(List<Report> reports, bool prune)
    {
        try
        {
            Write(reports, prune);
            _healthy(true);
            return true;
        }
#pragma warning disable CA1031 // The writer keeps the reports and tries again; it must not die.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _healthy(!Sql.IsOutage(ex));
            LogWriteFailed(_logger, reports.Count, ex.Message, ex);
            return false;
        }
    }

    private void Write(List<Report> reports, bool prune)
    {
        // The latest report of each message wins, in the order of those latest reports (the order they finished).
        var seen = new HashSet<QueueMessage>(reports.Count, SameMessage.Instance);
        var latest = new List<Report>(reports.Count);
        for (var i = reports.Count - 1; i >= 0; i--)
        {
            if (seen.Add(reports[i].Message))
            {
                latest.Add(reports[i]);
            }
        }

        latest.Reverse();
        var rows = latest.ToArray();
        using var conn = _db.OpenConnection();
        using var batch = new NpgsqlBatch(conn);
        if (rows.Length > 0)
        {
            var cmd = new NpgsqlBatchCommand(_sql.Report);
            Add(cmd, _node);
            Add(cmd, rows.Select(r => r.Pos).ToArray());
            Add(cmd, rows.Select(r => r.Claims).ToArray());
            Add(cmd, rows.Select(r => r.Status).ToArray());
            Add(cmd, rows.Select(r => r.Attempts).ToArray());
            Add(cmd, rows.Select(r => r.Worker).ToArray());
            Add(cmd, rows.Select(r => r.StartedAt).ToArray());
            Add(cmd, rows.Select(r => r.NextAttemptAt).ToArray());
            Add(cmd, rows.Select(r => r.Error).ToArray());
            Add(cmd, rows.Select(r => r.CompletedAt).ToArray());
            batch.BatchCommands.Add(cmd);
        }

        // Retention: exact for readers (a barrier prunes), otherwise at most every PruneEvery per queue.
        var now = Environment.TickCount64;
        foreach (var store in rows.Where(r => r.IsFinal).Select(r => r.Store).Distinct())
        {
            if (prune || !_lastPrune.TryGetValue(store, out var last) || now - last >= PruneEvery.TotalMilliseconds)
            {
                batch.BatchCommands.Add(PruneOf(store, now));
            }
        }

        if (prune)
        {
            foreach (var (store, _) in _lastPrune.Where(kv => kv.Value != now).ToList())
            {
                batch.BatchCommands.Add(PruneOf(store, now));
            }
        }

        if (batch.BatchCommands.Count > 0)
        {
            batch.ExecuteNonQuery(); // One implicit transaction: the reports and their counters together.
        }
    }

    private NpgsqlBatchCommand PruneOf(PostgresQueueStore store, long now)
    {
        _lastPrune[store] = now;
        var p = new NpgsqlBatchCommand(_sql.Prune);
        Add(p, store.QueueName);
        Add(p, store.Options.RetainFinished);
        Add(p, store.Options.DeadLetterCapacity);
        return p;
    }

    private static void Add(NpgsqlBatchCommand cmd, object? value) => cmd.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL: {Reports} outcome reports could not be written ({Reason}); kept and tried again.")]
    private static partial void LogWriteFailed(ILogger logger, int reports, string reason, Exception ex);
}
