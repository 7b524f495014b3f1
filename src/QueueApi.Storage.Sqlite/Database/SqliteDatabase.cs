using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Database;

/// <summary>
/// One open database file: locked for this process, checked, migrated, in WAL mode. Hands out connections with
/// the durability setting applied; every connection is this process's own, so none is pooled or shared.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    // SQLite's primary result codes for a file that is not (or no longer) a readable database.
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADb = 26;
    private const int SqliteCantOpen = 14;
    private const int SqliteIoErr = 10;

    private readonly ProcessLock _lock;
    private readonly string _connectionString;
    private readonly SqliteStorageOptions _options;

    private SqliteDatabase(string path, SqliteStorageOptions options, ProcessLock processLock)
    {
        Path = path;
        _options = options;
        _lock = processLock;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
        }.ToString();
    }

    /// <summary>The database file's full path.</summary>
    public string Path { get; }

    /// <summary>The schema version the file had before start-up (0 for a new file).</summary>
    public int FoundVersion { get; private set; }

    public SqliteSynchronous Synchronous => _options.Synchronous;

    /// <summary>Whether the writer packs plain inserts (<see cref="SqliteStorageOptions.PackIntake"/>).</summary>
    public bool PackIntake => _options.PackIntake;

    /// <summary>
    /// Opens (or creates) the file: takes the process lock, checks the file, migrates it. Every refusal is a
    /// <see cref="StorageStartupException"/> whose one-line message names the file; the file is never wiped.
    /// </summary>
    public static SqliteDatabase Open(SqliteStorageOptions options, string contentRoot)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(contentRoot, options.Path));
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageStartupException($"The database file '{path}' cannot be created: {ex.Message} Make its folder writable by this user.", ex);
        }

        var processLock = ProcessLock.Acquire(path);
        try
        {
            var database = new SqliteDatabase(path, options, processLock);
            database.FoundVersion = database.CheckAndMigrate();
            return database;
        }
        catch
        {
            processLock.Dispose();
            throw;
        }
    }

    /// <summary>A new connection with the pragmas every connection of this store uses.</summary>
    public SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Execute(connection, Pragmas());
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The writer's own handle, in SQLite's multi-thread mode (<c>SQLITE_OPEN_NOMUTEX</c>): no connection mutex
    /// taken and released around every call, which only its one thread makes (Microsoft.Data.Sqlite has no such
    /// option, so the handle is opened through SQLitePCL). Same file, pragmas and private cache as a connection.
    /// </summary>
    internal sqlite3 OpenWriterHandle()
    {
        var rc = raw.sqlite3_open_v2(Path, out var db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_NOMUTEX | raw.SQLITE_OPEN_PRIVATECACHE, null);
        try
        {
            if (rc != raw.SQLITE_OK)
            {
                throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(db).utf8_to_string()}'.", rc);
            }

            Writing.RawStatement.Execute(db, Pragmas());
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Cheap liveness probe for readiness: the file still answers a read.</summary>
    public bool IsHealthy(out string? problem)
    {
        try
        {
            using var connection = OpenConnection();
            Execute(connection, "SELECT count(*) FROM queues;");
            problem = null;
            return true;
        }
        catch (SqliteException ex)
        {
            problem = $"The database file '{Path}' does not answer: {ex.Message}";
            return false;
        }
    }

    public void Dispose() => _lock.Dispose();

    private int CheckAndMigrate()
    {
        try
        {
            using var connection = OpenConnection();
            // WAL: readers never block the writer and a commit appends to the log instead of rewriting pages.
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = 67108864;");
            var found = Schema.ReadVersion(connection);
            if (found > 0)
            {
                QuickCheck(connection);
            }

            var version = Schema.Migrate(connection, Path);
            // Rows a version-4 file left packed have no id bounds to be read in place or indexed by: they become
            // message rows now (with the writer's page cache, so a million rows do not spill the default 2 MB one).
            // Rows packed since are read where they are (Recovery.PackedMessages) and stay packed.
            Execute(connection, "PRAGMA cache_size = -32768;");
            using (var rows = new Writing.RowWriter(connection.Handle!, pack: false))
            {
                rows.ExpandUnbounded();
            }

            return version;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADb or SqliteCantOpen or SqliteIoErr)
        {
            throw new StorageStartupException(
                $"The database file '{Path}' is corrupt or unreadable ({ex.Message.TrimEnd('.')}): it was left untouched; restore it from a backup or move it away to start empty.", ex);
        }
    }

    private void QuickCheck(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA quick_check(1);";
        var result = command.ExecuteScalar() as string;
        if (!string.Equals(result, "ok", StringComparison.Ordinal))
        {
            throw new StorageStartupException(
                $"The database file '{Path}' is corrupt (quick_check: {result}): it was left untouched; restore it from a backup or move it away to start empty.");
        }
    }

    private string Pragmas()
    {
        var synchronous = _options.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL";
        var pragmas = $"PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;";
        return _options.MaxPageCount is { } pages ? pragmas + $" PRAGMA max_page_count = {pages};" : pragmas;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
