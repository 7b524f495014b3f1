namespace QueueApi.Engine.Storage;

/// <summary>What a storage health check found: whether it answers, and a line saying so for /health.</summary>
public readonly record struct StorageHealth(bool Healthy, string Description)
{
    public static StorageHealth Ok(string description) => new(true, description);

    public static StorageHealth Failing(string description) => new(false, description);
}
