using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// Issues 15 and 16 on the shared store: the due-time wake-up, priorities against the local buffer, cancelling
/// and the per-priority view. Due times and aging follow the store's <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class PostgresQueueStore
{
    private const string CancelledReason = "cancelled";

    private readonly Lock _dueGate = new();
    private ITimer? _dueTimer;
    private long _dueArmedAt = long.MaxValue;
    private long _stoppedAt = long.MaxValue;

    // Strict priorities despite the buffer: a local commit that may outrank something buffered (or being fetched)
    // bumps the generation; a claim then first waits for a refresh that began after the bump: the buffer goes back
    // and the best rows are claimed again in the same round trip, so nothing stored ranks above what is buffered.
    // A queue whose messages all share one priority never bumps it, so the common case keeps its batched claims.
    private readonly Lock _refreshGate = new();
    private long _generation;
    private long _fetchedGeneration;
    private int _unlockedFetches;
    private int _lockedFetches;
    private int _lowestPriority = int.MaxValue;

    /// <summary>The clock a claim compares due times and aging with; frozen at the stop.</summary>
    private long ClaimNow => Math.Min(_storage.Time.GetUtcNow().UtcTicks, Volatile.Read(ref _stoppedAt));

    public async ValueTask<CancelResult> CancelAsync(string id, CancellationToken cancellationToken)
    {
        await Task.Yield(); // The database round trips run off the request's thread.
        _storage.Outcomes.Flush(FlushWait); // A message this replica finished answers Finished, not Running.
        return Read(conn =>
        {
            using var cmd = Sql.Command(
                conn, _storage.Sql.Features.Cancel, null, QueueName, id, _storage.Time.GetUtcNow().UtcTicks, _storage.NodeId, CancelledReason);
            return cmd.ExecuteScalar() switch
            {
                short code when code == 0 => CancelResult.Done,
                short code when code is 1 or 2 or Rows.Claimed => CancelResult.Running,
                short => CancelResult.Finished,
                _ => CancelResult.NotFound,
            };
        }, CancelResult.StorageUnavailable);
    }

    public IReadOnlyList<PriorityLane> Priorities()
    {
        _storage.Outcomes.Flush(FlushWait);
        return Read<IReadOnlyList<PriorityLane>>(conn =>
        {
            using var cmd = Sql.Command(conn, _storage.Sql.Features.Lanes, null, QueueName, _storage.Time.GetUtcNow().UtcTicks);
            using var r = cmd.ExecuteReader();
            var lanes = new List<PriorityLane>();
            while (r.Read())
            {
                lanes.Add(new PriorityLane(r.GetInt16(0), r.GetInt32(1), new DateTimeOffset(r.GetInt64(2), TimeSpan.Zero)));
            }

            return lanes;
        }, []);
    }

    /// <summary>
    /// This replica committed messages to the queue (before their senders hear so): the lowest and highest
    /// priority among them, and the earliest due time ahead (0: none).
    /// </summary>
    internal void Committed(int lowest, int highest, long earliestDue)
    {
        LowerTo(ref _lowestPriority, lowest);
        // Outranks what is buffered, or may outrank what a claim under way (its snapshot older than this commit)
        // brings: only then must the next take wait for a refresh. One priority throughout: never.
        var fetching = Volatile.Read(ref _unlockedFetches) > 0 || Volatile.Read(ref _lockedFetches) > 0;
        if (highest > _buffer.LowestPriority() || (fetching && highest > Volatile.Read(ref _lowestPriority)))
        {
            Interlocked.Increment(ref _generation);
        }

        if (earliestDue > 0)
        {
            WakeAt(earliestDue);
        }
    }

    /// <summary>This replica committed these messages to the queue (before their senders hear so): see <see cref="ClaimFloors.Lower"/>.</summary>
    internal void LowerFloors(List<QueueMessage> committed) =>
        _floors.Lower(committed.Select(m => (m.Priority, Math.Max(m.EnqueuedAtTicks, m.DueAtTicks))));

    /// <summary>Stops the due-time timer (the storage is being disposed).</summary>
    internal void StopTimer()
    {
        lock (_dueGate)
        {
            _dueTimer?.Dispose();
            _dueTimer = null;
            _dueArmedAt = long.MinValue; // Never armed again.
        }
    }

    /// <summary>A local commit may outrank what is buffered: one refresh that began after it runs before this take.</summary>
    private void RefreshIfOutranked()
    {
        var wanted = Volatile.Read(ref _generation);
        if (wanted <= Volatile.Read(ref _fetchedGeneration) || !_accepting)
        {
            return;
        }

        lock (_refreshGate)
        {
            if (wanted <= Volatile.Read(ref _fetchedGeneration))
            {
                return; // Another claimer's fetch covered it meanwhile.
            }

            // Fetches begun before the first bump hold no lock; a row one of them locked would be skipped here.
            SpinWait.SpinUntil(() => Volatile.Read(ref _unlockedFetches) == 0, TimeSpan.FromSeconds(15));
            var generation = Volatile.Read(ref _generation);
            var share = Math.Max(1, _storage.Options.ClaimBatch / Fetchers);
            var now = ClaimNow;
            Interlocked.Increment(ref _lockedFetches);
            try
            {
                // First only what outranks the lowest buffered: usually a few rows, and nothing goes back.
                var lowest = _buffer.LowestEffective(now, Options.PriorityAging.Ticks);
                var got = Buffer(_storage.Claim(this, stopping: false, share, now, above: lowest));
                if (got == share && lowest >= 0)
                {
                    // More outrank the buffer than one claim takes: the buffer goes back and the best are claimed
                    // again, in one transaction (on failure nothing went back, so the rows return to the buffer).
                    var putBack = _buffer.Drain();
                    Interlocked.Add(ref _buffered, -putBack.Count);
                    try
                    {
                        Buffer(_storage.Claim(this, stopping: false, share, now, putBack.Select(b => b.Pos).ToArray()));
                    }
                    catch (Exception ex) when (Sql.IsOutage(ex))
                    {
                        Buffer(putBack);
                        throw;
                    }
                }
            }
#pragma warning disable CA1031 // A lost database is waited out by the claim loop; only strictness waits with it.
            catch (Exception ex) when (Sql.IsOutage(ex))
#pragma warning restore CA1031
            {
                _storage.ReportOutage(ex);
            }
            finally
            {
                Interlocked.Decrement(ref _lockedFetches);
            }

            RaiseTo(ref _fetchedGeneration, generation);
        }
    }

    private int Buffer(List<Buffered> rows)
    {
        if (rows.Count > 0)
        {
            LowerTo(ref _lowestPriority, rows.Min(r => r.Message.Priority));
            _buffer.Add(rows);
            Interlocked.Add(ref _buffered, rows.Count);
            Wake();
        }

        return rows.Count;
    }

    /// <summary>
    /// Claims as <see cref="ClaimInto"/>, or answers -1 when a refresh is under way. Once priorities are mixed
    /// (the generation moved), one claim round trip at a time, so a refresh never misses a row another one locked.
    /// </summary>
    /// <remarks>
    /// Such a claim keeps the buffer's rule (nothing stored outranks anything buffered) if it held before, but does
    /// not restore it after a commit broke it: only a refresh does, so only a refresh counts as fetched.
    /// </remarks>
    private int ClaimInOrder(bool stopping, int take)
    {
        // Counted before the generation is read, so a refresh after the first bump can wait for it.
        Interlocked.Increment(ref _unlockedFetches);
        if (Volatile.Read(ref _generation) == 0)
        {
            try
            {
                return ClaimInto(stopping, take);
            }
            finally
            {
                Interlocked.Decrement(ref _unlockedFetches);
            }
        }

        Interlocked.Decrement(ref _unlockedFetches);
        if (!_refreshGate.TryEnter())
        {
            return -1;
        }

        Interlocked.Increment(ref _lockedFetches);
        try
        {
            return ClaimInto(stopping, take);
        }
        finally
        {
            Interlocked.Decrement(ref _lockedFetches);
            _refreshGate.Exit();
        }
    }

    /// <summary>Asks for the earliest due time ahead and wakes the claimers then (one round trip, when a claim found nothing).</summary>
    private void WakeAtNextDue()
    {
        try
        {
            var now = _storage.Time.GetUtcNow().UtcTicks;
            var next = Read(conn =>
            {
                using var cmd = Sql.Command(conn, _storage.Sql.Features.NextDue, null, QueueName, now);
                return cmd.ExecuteScalar() is long at ? at : 0;
            }, 0L);
            if (next > 0)
            {
                WakeAt(next);
            }
        }
        catch (StorageUnavailableException)
        {
            // The fallback poll tries again.
        }
    }

    /// <summary>Arms the timer for <paramref name="due"/> (UTC ticks) unless it fires sooner; at or past it, wakes now.</summary>
    private void WakeAt(long due)
    {
        lock (_dueGate)
        {
            var now = _storage.Time.GetUtcNow().UtcTicks;
            if (due <= now)
            {
                Wake();
                return;
            }

            if (_dueArmedAt == long.MinValue || (due >= _dueArmedAt && _dueArmedAt > now))
            {
                return; // Stopped, or armed for sooner already.
            }

            _dueArmedAt = due;
            _dueTimer ??= _storage.Time.CreateTimer(static s => ((PostgresQueueStore)s!).DueFired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _dueTimer.Change(TimeSpan.FromTicks(due - now), Timeout.InfiniteTimeSpan);
        }
    }

    private void DueFired()
    {
        lock (_dueGate)
        {
            if (_dueArmedAt != long.MinValue)
            {
                _dueArmedAt = long.MaxValue;
            }
        }

        Wake();
    }

    private static void RaiseTo(ref long field, long value)
    {
        for (var seen = Volatile.Read(ref field); value > seen; seen = Volatile.Read(ref field))
        {
            if (Interlocked.CompareExchange(ref field, value, seen) == seen)
            {
                return;
            }
        }
    }

    private static void LowerTo(ref int field, int value)
    {
        for (var seen = Volatile.Read(ref field); value < seen; seen = Volatile.Read(ref field))
        {
            if (Interlocked.CompareExchange(ref field, value, seen) == seen)
            {
                return;
            }
        }
    }
}
