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
    /// Opt-in: a group's plain inserts into a queue (and a batch request's) are stored as one packed row, expanded
    /// into a row per message when a worker first claims one of them (or when the file is next opened). The intake
    /// writes one row where it wrote dozens, and opening a file with a large packed backlog pays for the expansion;
    /// see docs/decisions/0033-packed-intake.md. Off (the default), every message is a row of its own at once.
    /// </summary>
    public bool PackIntake { get; set; }

    /// <summary>Test hook: caps the file at this many pages (<c>PRAGMA max_page_count</c>) to provoke a full disk.</summary>
    internal long? MaxPageCount { get; set; }
}
