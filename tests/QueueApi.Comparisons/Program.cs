using System.Globalization;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using QueueApi.Comparisons;
using QueueApi.Storage.Postgres;
using QueueApi.Storage.Sqlite;
using QueueApi.Storage.Sqlite.Queues;

// QueueApi against Hangfire and graphile-worker, end to end, in one run (run.sh builds, installs and starts what
// this needs). Modes: sqlite [rounds] [jobs] | postgres [rounds] [jobs]; postgres reads QUEUEAPI_BENCH_POSTGRES
// or QUEUEAPI_TEST_POSTGRES (bash .ci/postgres start writes one).
var mode = args.Length > 0 ? args[0] : "";
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var jobs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5_000;
switch (mode)
{
    case "sqlite":
        Sqlite(rounds, jobs);
        return 0;
    case "postgres":
        var connection = (Environment.GetEnvironmentVariable("QUEUEAPI_BENCH_POSTGRES") ?? Environment.GetEnvironmentVariable("QUEUEAPI_TEST_POSTGRES"))?.Trim('\'', '"');
        if (string.IsNullOrWhiteSpace(connection))
        {
            Console.Error.WriteLine("Set QUEUEAPI_BENCH_POSTGRES, or run run.sh, which starts a throwaway cluster.");
            return 2;
        }

        Postgres(connection, rounds, jobs);
        return 0;
    default:
        Console.Error.WriteLine("Usage: sqlite|postgres [rounds] [jobs]");
        return 2;
}

static void Sqlite(int rounds, int jobs)
{
    var folder = Directory.CreateTempSubdirectory("queueapi-compare-").FullName;
    var files = 0;
    string NewFile() => Path.Combine(folder, $"{Interlocked.Increment(ref files)}.db");
    void Clean()
    {
        foreach (var f in Directory.GetFiles(folder))
        {
            File.Delete(f);
        }
    }

    try
    {
        ISide[] sides =
        [
            new QueueApiSide("QueueApi, SQLite (Synchronous=Normal, the default)",
                () => new SqliteStorage(new SqliteStorageOptions { Path = NewFile() }, folder, TimeProvider.System), Clean),
            new QueueApiSide("QueueApi, SQLite (Synchronous=Full)",
                () => new SqliteStorage(new SqliteStorageOptions { Path = NewFile(), Synchronous = SqliteSynchronous.Full }, folder, TimeProvider.System), Clean),
            // The poll interval is cut from its 15 s default: a worker that found the queue empty looks again
            // sooner, which can only help Hangfire here.
            new HangfireSide("Hangfire 1.8.25, Hangfire.Storage.SQLite 0.4.3",
                () => new SQLiteStorage(NewFile(), new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromMilliseconds(100) }),
                storage => { ((SQLiteStorage)storage).Dispose(); Clean(); }),
        ];
        new Comparison("QueueApi against Hangfire on SQLite", sides, rounds, jobs).Run();
    }
    finally
    {
        Directory.Delete(folder, recursive: true);
    }
}

static void Postgres(string connection, int rounds, int jobs)
{
    using var data = NpgsqlDataSource.Create(connection);
    var schemas = new Stack<string>();
    string NewSchema(string prefix)
    {
        var s = $"{prefix}_{Guid.NewGuid():N}"[..16];
        schemas.Push(s);
        return s;
    }

    void Drop()
    {
        while (schemas.TryPop(out var s))
        {
            using var drop = data.CreateCommand($"drop schema if exists {s} cascade");
            drop.ExecuteNonQuery();
        }
    }

    ISide[] sides =
    [
        new QueueApiSide("QueueApi, PostgreSQL store",
            () => new PostgresStorage(new PostgresStorageOptions { ConnectionString = connection, Schema = NewSchema("qa") }, TimeProvider.System, NullLogger<PostgresStorage>.Instance),
            Drop),
        new HangfireSide("Hangfire 1.8.25, Hangfire.PostgreSql 1.21.1",
            () =>
            {
                // LISTEN/NOTIFY wake-ups on (as QueueApi's), and the fallback poll at QueueApi's 1 s instead of 15 s.
                var options = new PostgreSqlStorageOptions { SchemaName = NewSchema("hf"), PrepareSchemaIfNecessary = true, EnableLongPolling = true, QueuePollInterval = TimeSpan.FromSeconds(1) };
                return new PostgreSqlStorage(new NpgsqlConnectionFactory(connection, options), options);
            },
            _ => Drop()),
        new GraphileSide("graphile-worker 0.18.0 (defaults)", connection, "default"),
        new GraphileSide("graphile-worker 0.18.0 (local queue 32, batched completions)", connection, "batched"),
    ];
    try
    {
        new Comparison("QueueApi against Hangfire and graphile-worker on PostgreSQL", sides, rounds, jobs).Run();
    }
    finally
    {
        Drop();
    }
}
