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
    private readonly TaskCompletionSource _done = new();

    public WriteUnit(WriteOp op) => _single = op;

    public WriteUnit(IReadOnlyList<WriteOp> ops) => _many = ops;

    public Task Completion => _done.Task;

    public int Count => _many?.Count ?? 1;

    public void ApplyTo(RowWriter rows)
    {
        if (_many is null)
        {
            rows.Apply(in _single);
            return;
        }

        var i = 0;
        if (_many is WriteOp[] all)
        {
            // A batch request's rows go in by the statement of RowWriter.InsertRun rows each: fewer statements to run.
            while (i + RowWriter.InsertRun <= all.Length && RowWriter.CanInsertRun(all.AsSpan(i, RowWriter.InsertRun)))
            {
                rows.InsertRunOf(all.AsSpan(i, RowWriter.InsertRun));
                i += RowWriter.InsertRun;
            }
        }

        for (; i < _many.Count; i++)
        {
            rows.Apply(_many[i]);
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
