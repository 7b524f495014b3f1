namespace QueueApi.Engine.Storage;

/// <summary>
/// Who claims or reports: a worker's index in its queue (0 to Workers - 1) and its id. The index lets a store keep
/// per-worker state (counters, retained rings, a local buffer) that only that worker's thread writes.
/// </summary>
public readonly record struct WorkerSlot(int Index, string WorkerId);
