namespace QueueApi.Storage.Sqlite.Database;

/// <summary>
/// One process per database file: an exclusive OS lock on <c>&lt;db&gt;.lock</c>, held for the process's life and
/// released by the kernel when it dies (even by <c>kill -9</c>), so a stale lock never blocks a restart.
/// </summary>
/// <remarks>
/// A lock file rather than <c>PRAGMA locking_mode=EXCLUSIVE</c>: the exclusive mode would also shut out this
/// process's own reader connections, and it only fails the second process at its first read, not at start-up.
/// </remarks>
internal sealed class ProcessLock : IDisposable
{
    private readonly FileStream _stream;

    private ProcessLock(FileStream stream) => _stream = stream;

    public static ProcessLock Acquire(string databasePath)
    {
        var lockPath = databasePath + ".lock";
        try
        {
            // On Unix .NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None: a second holder fails at once.
            var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return new ProcessLock(stream);
        }
        catch (IOException ex)
        {
            throw new StorageStartupException(
                $"The database file '{databasePath}' is in use by another QueueApi process (lock '{lockPath}'): stop that process or give this one another QueueApi:Storage:Path.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new StorageStartupException(
                $"The database file '{databasePath}' cannot be locked ('{lockPath}' is not writable): make its folder writable by this user.", ex);
        }
    }

    public void Dispose() => _stream.Dispose();
}
