using QueueApi.Storage.Sqlite;
using QueueApi.Storage.Sqlite.Database;
using QueueApi.Storage.Sqlite.Writing;

namespace QueueApi.Storage.Sqlite.Tests;

/// <summary>A database file in its own temporary folder, deleted with the folder at the end.</summary>
internal sealed class TempDatabase : IDisposable
{
    private static long s_nextId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public TempDatabase()
    {
        Folder = Directory.CreateTempSubdirectory("queueapi-sqlite-").FullName;
        Options = new SqliteStorageOptions { Path = Path.Combine("data", "queueapi.db") };
    }

    public string Folder { get; }

    public SqliteStorageOptions Options { get; }

    public string FilePath => Path.Combine(Folder, "data", "queueapi.db");

    public SqliteDatabase Open() => SqliteDatabase.Open(Options, Folder);

    /// <summary>A new queued message with a fresh id.</summary>
    public static StoredMessage Message(string queue = "q", string payload = "{\"n\":1}") =>
        new(Interlocked.Increment(ref s_nextId), 7, queue, System.Text.Encoding.UTF8.GetBytes(payload), DateTime.UtcNow.Ticks);

    public static async Task WriteAll(GroupCommitWriter writer, IEnumerable<WriteOp> ops)
    {
        foreach (var op in ops)
        {
            await writer.Write(op).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// The queue's active messages as stored right now: message rows, plus those still packed in intake rows
    /// (which become message rows when one of their messages is first touched).
    /// </summary>
    public static long CountStored(SqliteDatabase database, string queue)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) FROM messages WHERE queue = $q AND status IN (0, 1, 2, 8))
                 + (SELECT coalesce(sum(count), 0) FROM intake WHERE queue = $q)
            """;
        command.Parameters.AddWithValue("$q", queue);
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a failed test: the temp folder is cleaned by the OS later.
        }
    }
}
