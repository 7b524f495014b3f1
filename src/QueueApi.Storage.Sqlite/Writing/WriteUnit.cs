namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// What one caller waits for: one or more row changes that commit together or not at all (a batch request is one
/// unit). Its task completes after the commit, on the thread pool (<see cref="CompleteOnPool"/>: one work item per
/// group, not one per unit), so no continuation runs on the writer's thread.
/// </summary>
internal sealed class WriteUnit
{
    private readonly WriteOp _single;
    private readonly IReadOnlyList<WriteOp>? _many;
    // Continuations run inline where the unit is completed: always a pool thread (CompleteOnPool) or a caller with none yet.
    private readonly TaskCompletionSource _done;
    // 0 waiting, 1 taken by the writer, 2 abandoned by its caller: whichever comes first decides whether it is written.
    private int _state;

    public WriteUnit(WriteOp op, bool ahead = false)
    {
        _single = op;
        Ahead = ahead;
        // Completed on the writer's thread itself (CompleteGroup), so any continuation must leave it.
        _done = new(ahead ? TaskCreationOptions.RunContinuationsAsynchronously : TaskCreationOptions.None);
    }

    public WriteUnit(IReadOnlyList<WriteOp> ops)
    {
        _many = ops;
        _done = new();
    }

    /// <summary>A claim its worker blocks on: written ahead of the intake and completed by the writer at once, no pool hop.</summary>
    public bool Ahead { get; }

    public Task Completion => _done.Task;

    public int Count => _many?.Count ?? 1;

    /// <summary>The writer's transaction number that committed it (0 until then); tests read the order of groups.</summary>
    public long Transaction { get; set; }

    /// <summary>The writer takes the unit into a group; false if its caller gave up first (then nothing of it is written).</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

    /// <summary>
    /// The caller stops waiting; true if the writer had not taken the unit, which then is never written. False means
    /// its commit is under way and its outcome is still to come.
    /// </summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;

    /// <summary>
    /// Waits (bounded) for the commit; true once committed. A unit the writer has not taken within
    /// <paramref name="wait"/> is abandoned, so it is never written after its caller answered "not kept". One already
    /// taken is committing: it gets a second wait, and if even that passes, <paramref name="lateCommit"/> runs should
    /// it commit later (its messages must join the line: a row on disk never waits for a restart to run). The caller
    /// answers "not kept" then and may retry; idempotency keys make that safe.
    /// </summary>
    public async Task<bool> CommittedAsync(TimeSpan wait, Action lateCommit)
    {
        var outcome = await WaitOnce(wait).ConfigureAwait(false);
        if (outcome is null && !TryAbandon())
        {
            outcome = await WaitOnce(wait).ConfigureAwait(false); // Taken: its commit is under way.
            if (outcome is null)
            {
                _ = _done.Task.ContinueWith(_ => lateCommit(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return outcome == true;
    }

    /// <summary>True once committed, false once failed, null if still pending after <paramref name="wait"/>.</summary>
    private async Task<bool?> WaitOnce(TimeSpan wait)
    {
        try
        {
            await _done.Task.WaitAsync(wait).ConfigureAwait(false);
            return true;
        }
        catch (SqliteStorageException)
        {
            return false;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>A single plain insert (what the writer gathers across a group's units into multi-row inserts).</summary>
    public bool IsPlainInsert(out WriteOp op)
    {
        op = _single;
        return _many is null && RowWriter.IsPlainInsert(in _single);
    }

    public void ApplyTo(RowWriter rows)
    {
        if (_many is null)
        {
            rows.Apply(in _single);
            return;
        }

        // Any list is written alike (packed, or by multi-row statements); the store hands over arrays, so no copy there.
        var all = _many as WriteOp[] ?? [.. _many];

        // A batch request's plain rows go in by multi-row statements (or one packed row): fewer statements to run.
        var i = 0;
        while (i < all.Length)
        {
            var end = i;
            while (end < all.Length && RowWriter.IsPlainInsert(in all[end]) && ReferenceEquals(all[end].Queue, all[i].Queue))
            {
                end++;
            }

            if (end > i)
            {
                rows.InsertPlain(all.AsSpan(i, end - i));
                i = end;
            }
            else
            {
                rows.Apply(in all[i++]);
            }
        }
    }

    /// <summary>
    /// Completes a committed (or failed) group: claims at once on this thread (their workers are blocked on them and
    /// must not wait for a pool thread on a saturated machine), the rest on one pool work item.
    /// </summary>
    public static void CompleteGroup(List<WriteUnit> group, Exception? error)
    {
        // Most groups hold no claim: they go to the pool as before, with no second list.
        if (!group.Exists(static u => u.Ahead))
        {
            CompleteOnPool([.. group], error);
            return;
        }

        var rest = new List<WriteUnit>(group.Count);
        foreach (var unit in group)
        {
            if (!unit.Ahead)
            {
                rest.Add(unit);
            }
            else if (error is null)
            {
                unit.Succeed();
            }
            else
            {
                unit.Fail(error);
            }
        }

        if (rest.Count > 0)
        {
            CompleteOnPool([.. rest], error);
        }
    }

    /// <summary>
    /// Completes the units on one thread-pool work item: a group's callers then cost one hop to the pool instead of
    /// one each, and the writer goes straight back to the next group.
    /// </summary>
    public static void CompleteOnPool(WriteUnit[] units, Exception? error)
    {
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            foreach (var unit in state.Units)
            {
                if (state.Error is null)
                {
                    unit.Succeed();
                }
                else
                {
                    unit.Fail(state.Error);
                }
            }
        }, (Units: units, Error: error), preferLocal: false);
    }

    public void Succeed() => _done.TrySetResult();

    public void Fail(Exception error)
    {
        _done.TrySetException(error);
        // Callers that fire and forget (finishes) never look: observe it here so it does not surface as unobserved.
        _ = _done.Task.Exception;
    }
}
