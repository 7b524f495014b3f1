namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// A write did not reach the database (full disk, I/O error, the writer stopped): nothing of it was kept, and the
/// caller may try again later. The HTTP layer answers it with 503 and <c>Retry-After</c>.
/// </summary>
public sealed class SqliteStorageException(string message, Exception? inner = null) : Exception(message, inner);
