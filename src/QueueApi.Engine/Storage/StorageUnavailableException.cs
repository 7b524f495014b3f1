namespace QueueApi.Engine.Storage;

/// <summary>
/// A durable store could not read or write (I/O error, full disk, lost database). Enqueue reports it as
/// <see cref="EnqueueStatus.StorageUnavailable"/> instead; this is thrown where no status can say it.
/// </summary>
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException() { }

    public StorageUnavailableException(string message) : base(message) { }

    public StorageUnavailableException(string message, Exception inner) : base(message, inner) { }
}
