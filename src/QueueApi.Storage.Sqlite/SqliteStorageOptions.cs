namespace QueueApi.Storage.Sqlite;

/// <summary>How hard each commit is pressed onto the disk (SQLite's <c>PRAGMA synchronous</c> in WAL mode).</summary>
public enum SqliteSynchronous
{
    /// <summary>Survives a process crash, <c>kill -9</c> and OOM kills; a power loss may lose the last commits.</summary>
    Normal,

    /// <summary>Each commit reaches the disk before it is acknowledged: survives power loss, at an fsync a commit.</summary>
    Full,
}

/// <summary>Where the database file is and how durable a commit is.</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The database file; a relative path is taken from the content root.</summary>
    public string Path { get; set; } = System.IO.Path.Combine("data", "queueapi.db");

    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;

    /// <summary>
    /// A group's plain inserts into a queue (and a batch request's) are stored as one packed row, expanded into a
    /// row per message when a worker first claims one of them (or at the next start): the intake writes one row
    /// where it wrote dozens. Off, every message is a row of its own from the start (for comparing the two).
    /// </summary>
    public bool PackIntake { get; set; } = true;

    /// <summary>Test hook: caps the file at this many pages (<c>PRAGMA max_page_count</c>) to provoke a full disk.</summary>
    internal long? MaxPageCount { get; set; }
}
