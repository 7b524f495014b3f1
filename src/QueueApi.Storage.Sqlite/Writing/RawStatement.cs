using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>
/// A statement prepared once (on the writer's connection, or for a read at open) and run straight through SQLite's C API: binding longs
/// and spans boxes nothing, and a run costs about a microsecond instead of an ADO.NET command's several. Errors
/// surface as <see cref="SqliteException"/>, as through ADO.NET.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    // The string last bound at each parameter: SQLite keeps bindings across runs, so binding the same string again
    // (a queue's name on every row) is skipped, and with it a UTF-8 conversion and SQLite's copy of the text.
    private readonly object?[] _text;

    public RawStatement(sqlite3 db, string sql)
    {
        _db = db;
        Check(_db, raw.sqlite3_prepare_v2(_db, sql, out _statement));
        _text = new object?[raw.sqlite3_bind_parameter_count(_statement) + 1];
    }

    /// <summary>A named parameter's position (<c>$name</c>); 0 when the SQL does not use it.</summary>
    public int ParameterIndex(string name) => raw.sqlite3_bind_parameter_index(_statement, name);

    public RawStatement Bind(int index, long value)
    {
        raw.sqlite3_bind_int64(_statement, index, value);
        return this;
    }

    public RawStatement Bind(int index, long? value)
    {
        _ = value is { } v ? raw.sqlite3_bind_int64(_statement, index, v) : raw.sqlite3_bind_null(_statement, index);
        return this;
    }

    public RawStatement Bind(int index, string? value)
    {
        if ((uint)index < (uint)_text.Length)
        {
            if (ReferenceEquals(_text[index], value ?? (object)_text))
            {
                return this;
            }

            _text[index] = value ?? (object)_text; // The array itself stands for "bound to null".
        }

        _ = value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value);
        return this;
    }

    public RawStatement Bind(int index, ReadOnlySpan<byte> value)
    {
        raw.sqlite3_bind_blob(_statement, index, value);
        return this;
    }

    /// <summary>Runs it to the end and makes it ready for the next run.</summary>
    public void Run()
    {
        var rc = raw.sqlite3_step(_statement);
        var reset = raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
        {
            Check(_db, rc);
        }

        Check(_db, reset);
    }

    /// <summary>Runs it, handing each result row to <paramref name="each"/>, and makes it ready for the next run.</summary>
    public void ForEachRow(Action<sqlite3_stmt> each)
    {
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
                each(_statement);
            }

            Check(_db, rc);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>
    /// Steps to the next result row, for a reader that pulls rows (two statements merged in order); false at the end.
    /// The caller resets it (<see cref="Reset"/>) when done with it, or reads on from where it is.
    /// </summary>
    public bool Next()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        Check(_db, rc);
        return false;
    }

    /// <summary>The current row's columns, between a <see cref="Next"/> that returned true and the next step.</summary>
    public sqlite3_stmt Row => _statement;

    /// <summary>Makes a pulled statement ready for the next run (rebinding what changes).</summary>
    public void Reset() => raw.sqlite3_reset(_statement);

    /// <summary>Runs SQL without results (BEGIN, COMMIT, ROLLBACK).</summary>
    public static void Execute(sqlite3 db, string sql) => Check(db, raw.sqlite3_exec(db, sql));

    public void Dispose() => _statement.Dispose();

    internal static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(db));
        }
    }
}
