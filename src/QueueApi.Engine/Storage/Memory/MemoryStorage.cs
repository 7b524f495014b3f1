using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>Keeps every queue in this process's memory: fastest, and lost when the process ends.</summary>
public sealed class MemoryStorage(TimeProvider time) : IMessageStorage
{
    public string Provider => "Memory";

    public bool IsDurable => false;

    public IQueueStore Open(string queueName, QueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MemoryQueueStore(queueName, options, time);
    }

    public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(StorageHealth.Ok("in memory (not durable)"));

    public void Dispose() { }
}
