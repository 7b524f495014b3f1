using QueueApi.Storage.Sqlite.Database;

namespace QueueApi.Storage;

/// <summary>Finds why the store refused to open, however deep the host wrapped it.</summary>
internal static class StorageRefusal
{
    public static StorageStartupException? Find(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is StorageStartupException refusal)
            {
                return refusal;
            }

            if (ex is AggregateException aggregate)
            {
                return aggregate.InnerExceptions.Select(Find).FirstOrDefault(r => r is not null);
            }
        }

        return null;
    }
}
