namespace QueueApi.Storage.Sqlite.Database;

/// <summary>
/// The database cannot be used as it is (held by another process, corrupt, from a newer version): the message is
/// one line naming the file and what to do, and the service exits with code 2. The file is never changed.
/// </summary>
public sealed class StorageStartupException(string message, Exception? inner = null) : Exception(message, inner);
