using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>Keeps every queue in this process's memory: fastest, and lost when the process ends.</summary>
public sealed class MemoryStorage(TimeProvider time) : IMessageStorage
{
    private readonly List<MemoryQueueStore> _opened = [];

    public string Provider => "Memory";

    public bool IsDurable => false;

    public StoreFeatures Features => StoreFeatures.All;

    public IQueueStore Open(string queueName, QueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = new MemoryQueueStore(queueName, options, time);
        lock (_opened)
        {
            _opened.Add(store);
        }

        return store;
    }

    public ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(StorageHealth.Ok("in memory (not durable)"));

    /// <summary>Stops the stores' schedule timers.</summary>
    public void Dispose()
    {
        lock (_opened)
        {
            _opened.ForEach(s => s.Dispose());
        }
    }
}
