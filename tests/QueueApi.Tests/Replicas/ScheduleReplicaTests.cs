using System.Data;
using System.Net;
using Npgsql;
using QueueApi.Storage.Postgres.Tests.Support;
using QueueApi.Tests.Support;
using static QueueApi.Tests.Replicas.Replicas;

namespace QueueApi.Tests.Replicas;

/// <summary>
/// Recurring schedules on replicas of the real service sharing one PostgreSQL schema: every occurrence enqueued
/// exactly once across three replicas (one of them killed on the way), and missed occurrences after all were down
/// following each schedule's Misfire policy. The proof is read from the database: the runs and the messages.
/// </summary>
public sealed class ScheduleReplicaTests(PostgresCluster cluster) : IClassFixture<PostgresCluster>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ThreeReplicasEnqueueEachOccurrenceOfAPerSecondScheduleExactlyOnceAndAKilledOneLosesNone()
    {
        Prerequisite.NotInMutationRun("replicas of the service as child processes");
        cluster.RequireServer();
        var schema = PostgresCluster.NewSchema();
        var settings = new Dictionary<string, string>
        {
            ["QueueApi__Schedules__yearly__Queue"] = Queue,
            ["QueueApi__Schedules__yearly__Cron"] = "0 0 1 1 *",
        };
        await using var a = await StartAsync(cluster, schema, settings: settings);
        await using var b = await StartAsync(cluster, schema, settings: settings);
        await using var c = await StartAsync(cluster, schema, settings: settings);

        // Made over HTTP on one replica, seen by every one, beside the one declared in configuration.
        using (var put = await a.Client.PutAsync("/schedules/tick", Json($$"""{"queue": "{{Queue}}", "cron": "* * * * * *", "payload": {"tick": true} }"""), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        foreach (var replica in new[] { b, c })
        {
            var list = await GetJsonAsync(replica, "/schedules");
            Assert.Equal(["api", "configuration"], list.EnumerateArray().Select(s => s.GetProperty("source").GetString()));
        }

        await using var db = NpgsqlDataSource.Create(cluster.ConnectionString);
        await WaitForRunsAsync(db, schema, "tick", 4);
        c.Signal("KILL");
        Assert.Equal(137, await c.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        await WaitForRunsAsync(db, schema, "tick", 12);

        // One snapshot with no run in progress: then every message of the queue belongs to exactly one run.
        var (runs, messages) = await Eventually.WaitAsync(
            () => SnapshotAsync(db, schema, "tick"),
            s => s.Runs.All(r => r.Finished),
            Deadline,
            "a moment with no run pending (a killed replica's is finished by another after its lease)");
        Assert.True(runs.Count >= 12, $"{runs.Count} runs");
        Assert.All(runs, r => Assert.NotNull(r.MessageId));
        Assert.Equal(runs.Select(r => r.MessageId).Order(), messages.Order()); // no message twice, none without its run
        var seconds = runs.Select(r => r.Occurrence).Order().ToList();
        Assert.Equal(Enumerable.Range(0, seconds.Count).Select(i => seconds[0].AddSeconds(i)), seconds); // none lost

        // Every live replica shows the same schedule, with a last message the queue holds.
        foreach (var replica in new[] { a, b })
        {
            var tick = await GetJsonAsync(replica, "/schedules/tick");
            Assert.Contains(tick.GetProperty("lastMessageId").GetString(), messages.Concat(await MessagesAsync(db, schema)));
            Assert.Equal(System.Text.Json.JsonValueKind.String, tick.GetProperty("nextRunAt").ValueKind);
        }
    }

    [Fact]
    public async Task AfterEveryReplicaWasDownARunOnceScheduleCatchesUpOnceAndASkipScheduleDoesNot()
    {
        Prerequisite.NotInMutationRun("replicas of the service as child processes");
        cluster.RequireServer();
        var schema = PostgresCluster.NewSchema();
        var settings = new Dictionary<string, string>
        {
            ["QueueApi__Schedules__once__Queue"] = Queue,
            ["QueueApi__Schedules__once__Cron"] = "* * * * * *",
            ["QueueApi__Schedules__skip__Queue"] = Queue,
            ["QueueApi__Schedules__skip__Cron"] = "* * * * * *",
            ["QueueApi__Schedules__skip__Misfire"] = "Skip",
        };
        await using var db = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using (var first = await StartAsync(cluster, schema, settings: settings))
        {
            await WaitForRunsAsync(db, schema, "once", 2);
            await WaitForRunsAsync(db, schema, "skip", 2);
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        // Ten minutes down, far past MisfireGrace (1 min): every stored time moves ten minutes back, as if it had been.
        var down = TimeSpan.FromMinutes(10).Ticks;
        await ExecuteAsync(db, $"""
            UPDATE {schema}.schedules SET cursor = cursor - {down}, last_occurrence = last_occurrence - {down};
            UPDATE {schema}.schedule_runs SET occurrence = occurrence - {down};
            """);
        var cursors = await CursorsAsync(db, schema);
        var restartedAt = DateTimeOffset.UtcNow;
        await using var second = await StartAsync(cluster, schema, settings: settings);
        await WaitForRunsAsync(db, schema, "once", 1, after: restartedAt);
        await WaitForRunsAsync(db, schema, "skip", 1, after: restartedAt);

        var once = await SnapshotAsync(db, schema, "once");
        var skip = await SnapshotAsync(db, schema, "skip");
        Assert.Equal([cursors["once"].AddSeconds(1)], Missed(once.Runs, cursors["once"], restartedAt)); // one catch-up: the first missed
        Assert.Empty(Missed(skip.Runs, cursors["skip"], restartedAt));
        Assert.All(once.Runs.Concat(skip.Runs).Where(r => r.Finished), r => Assert.NotNull(r.MessageId));
    }

    private static List<DateTimeOffset> Missed(IEnumerable<Run> runs, DateTimeOffset cursor, DateTimeOffset restartedAt) =>
        [.. runs.Select(r => r.Occurrence).Where(o => o > cursor && o < restartedAt)];

    private sealed record Run(DateTimeOffset Occurrence, string? MessageId, bool Finished);

    private static Task WaitForRunsAsync(NpgsqlDataSource db, string schema, string schedule, int count, DateTimeOffset? after = null) =>
        Eventually.WaitAsync(
            () => SnapshotAsync(db, schema, schedule),
            s => s.Runs.Count(r => r.Finished && r.Occurrence > (after ?? DateTimeOffset.MinValue)) >= count,
            Deadline,
            $"{count} runs of schedule {schedule}");

    /// <summary>The schedule's runs and the queue's messages, read in one snapshot.</summary>
    private static async Task<(List<Run> Runs, List<string> Messages)> SnapshotAsync(NpgsqlDataSource db, string schema, string schedule)
    {
        await using var conn = await db.OpenConnectionAsync(Ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, Ct);
        var runs = new List<Run>();
        await using (var cmd = new NpgsqlCommand($"SELECT occurrence, message_id, finished_at IS NOT NULL FROM {schema}.schedule_runs WHERE schedule = $1", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = schedule });
            await using var r = await cmd.ExecuteReaderAsync(Ct);
            while (await r.ReadAsync(Ct))
            {
                runs.Add(new Run(new DateTimeOffset(r.GetInt64(0), TimeSpan.Zero), r.IsDBNull(1) ? null : r.GetString(1), r.GetBoolean(2)));
            }
        }

        return (runs, await MessagesAsync(db, schema, conn, tx));
    }

    private static async Task<List<string>> MessagesAsync(NpgsqlDataSource db, string schema, NpgsqlConnection? conn = null, NpgsqlTransaction? tx = null)
    {
        var own = conn is null ? await db.OpenConnectionAsync(Ct) : null;
        try
        {
            await using var cmd = new NpgsqlCommand($"SELECT id FROM {schema}.messages WHERE queue = '{Queue}'", conn ?? own, tx);
            await using var r = await cmd.ExecuteReaderAsync(Ct);
            var ids = new List<string>();
            while (await r.ReadAsync(Ct))
            {
                ids.Add(r.GetString(0));
            }

            return ids;
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    private static async Task<Dictionary<string, DateTimeOffset>> CursorsAsync(NpgsqlDataSource db, string schema)
    {
        await using var cmd = db.CreateCommand($"SELECT name, cursor FROM {schema}.schedules");
        await using var r = await cmd.ExecuteReaderAsync(Ct);
        var cursors = new Dictionary<string, DateTimeOffset>();
        while (await r.ReadAsync(Ct))
        {
            cursors[r.GetString(0)] = new DateTimeOffset(r.GetInt64(1), TimeSpan.Zero);
        }

        return cursors;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(Ct);
    }
}
