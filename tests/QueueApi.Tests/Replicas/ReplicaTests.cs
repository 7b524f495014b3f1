using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using QueueApi.Storage.Postgres.Tests.Support;
using QueueApi.Tests.Support;
using static QueueApi.Tests.Replicas.Replicas;

namespace QueueApi.Tests.Replicas;

/// <summary>
/// Several replicas of the real service on one PostgreSQL database: a replica killed mid-load, one frozen past
/// its lease, and the database itself restarted under a running service. Each test has a schema of its own.
/// </summary>
public sealed class ReplicaTests(PostgresCluster cluster) : IClassFixture<PostgresCluster>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ThreeReplicasShareTheQueueAndEveryMessageAcceptedByAnyEndsSucceededAfterOneIsKilled()
    {
        Prerequisite.NotInMutationRun("replicas of the service as child processes");
        cluster.RequireServer();
        var schema = PostgresCluster.NewSchema();
        await using var a = await StartAsync(cluster, schema);
        await using var b = await StartAsync(cluster, schema);
        await using var c = await StartAsync(cluster, schema);
        ServiceProcess[] replicas = [a, b, c];
        var accepted = new ConcurrentBag<string>();
        var posted = 0;
        using var killed = new ManualResetEventSlim();

        // Four clients spread single posts over the three replicas; a third of the way in, c dies (SIGKILL).
        var clients = Enumerable.Range(0, 4).Select(n => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                var target = replicas[(n + i) % 3];
                if (Interlocked.Increment(ref posted) == 200)
                {
                    c.Signal("KILL");
                    killed.Set();
                }

                if (await TryPostAsync(target, "{\"sleepMs\": 2}") is { } id)
                {
                    accepted.Add(id);
                }
            }
        }, Ct)).ToList();
        await Task.WhenAll(clients).WaitAsync(Deadline, Ct);
        Assert.True(killed.IsSet);
        Assert.Equal(137, await c.WaitForExitAsync(TimeSpan.FromSeconds(10)));

        // What c had claimed comes back after its lease; everything any replica answered 202 ends succeeded.
        var counts = await WaitForQuietAsync(a, accepted.Count, Deadline);
        Assert.True(counts.GetProperty("balanced").GetBoolean(), counts.ToString());
        Assert.True(accepted.Count > 400, $"only {accepted.Count} of 600 posts were accepted");
        foreach (var id in accepted)
        {
            Assert.Equal("succeeded", await StatusAsync(a, id));
        }

        Assert.All(accepted.Take(50), id => Assert.Equal("succeeded", StatusAsync(b, id).GetAwaiter().GetResult()));

        // Every replica is listed; the killed one is no longer alive.
        var nodes = await Eventually.WaitAsync(
            () => GetJsonAsync(b, "/nodes"),
            n => n.EnumerateArray().Count(x => !x.GetProperty("alive").GetBoolean()) == 1,
            Deadline,
            "the killed replica to show dead in /nodes");
        Assert.Equal(3, nodes.GetArrayLength());
        Assert.All(nodes.EnumerateArray(), n => Assert.Equal(4, n.GetProperty("workers").EnumerateArray().Count(w => w.GetString()!.StartsWith("work-", StringComparison.Ordinal))));

        // The dashboard lists the same replicas, the killed one as dead.
        var snapshot = await Eventually.WaitAsync(
            () => GetJsonAsync(b, "/dashboard/snapshot"),
            s => s.GetProperty("replicas") is { ValueKind: JsonValueKind.Array } r
                && r.GetArrayLength() == 3
                && r.EnumerateArray().Count(x => x.GetProperty("state").GetString() == "dead") == 1,
            Deadline,
            "the dashboard to list three replicas, one dead");
        Assert.Equal(2, snapshot.GetProperty("replicas").EnumerateArray().Count(x => x.GetProperty("state").GetString() == "alive"));
    }

    [Fact]
    public async Task AReplicaFrozenPastItsLeaseLosesItsMessagesToAnotherAndItsLateCompletionsChangeNothing()
    {
        Prerequisite.NotInMutationRun("replicas of the service as child processes");
        cluster.RequireServer();
        var schema = PostgresCluster.NewSchema();
        await using var a = await StartAsync(cluster, schema, workers: 2, lease: "00:00:02");
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await TryPostAsync(a, "{\"sleepMs\": 1500}"))!);
        }

        // a alone: it claims all four (two in flight, two in its local buffer).
        static List<string> Held(System.Text.Json.JsonElement workers) => workers.EnumerateArray()
            .Where(x => x.GetProperty("queue").GetString() == Queue && x.GetProperty("state").GetString() == "busy")
            .Select(x => x.GetProperty("currentMessageId").GetString()).OfType<string>().ToList();
        var held = await Eventually.WaitAsync(() => GetJsonAsync(a, "/workers"), w => Held(w).Count == 2, Deadline, "a's two workers to be busy");
        var inFlight = Held(held);

        a.Signal("STOP");
        await using var b = await StartAsync(cluster, schema, workers: 2, lease: "00:00:02");
        try
        {
            // b puts back what a held once a's lease runs out, and runs it: every message succeeds, counted once.
            var counts = await WaitForQuietAsync(b, 4, Deadline);
            Assert.Equal((4L, 4L), (counts.GetProperty("accepted").GetInt64(), counts.GetProperty("succeeded").GetInt64()));
            var nodes = await GetJsonAsync(b, "/nodes");
            Assert.Single(nodes.EnumerateArray(), n => !n.GetProperty("alive").GetBoolean());
            foreach (var id in inFlight)
            {
                var m = await GetJsonAsync(b, $"/queues/{Queue}/messages/{id}");
                Assert.True(m.GetProperty("attempts").GetInt32() >= 2, $"the interrupted attempt is counted: {m}");
            }
        }
        finally
        {
            a.Signal("CONT");
        }

        // a wakes, finishes its stale attempts and reports them: the guard makes those reports change nothing.
        await Eventually.WaitAsync(
            () => GetJsonAsync(a, "/workers"),
            w => w.EnumerateArray().Sum(x => x.GetProperty("succeeded").GetInt64()) >= 2
                 && w.EnumerateArray().All(x => x.GetProperty("state").GetString() != "busy"),
            Deadline,
            "a to finish the attempts it held when frozen");
        var after = await CountsAsync(a);
        Assert.Equal((4L, 4L, 0L), (after.GetProperty("accepted").GetInt64(), after.GetProperty("succeeded").GetInt64(), after.GetProperty("failed").GetInt64()));
        Assert.True(after.GetProperty("balanced").GetBoolean(), after.ToString());
        Assert.All(ids, id => Assert.Equal("succeeded", StatusAsync(a, id).GetAwaiter().GetResult()));
        await Eventually.WaitAsync(
            () => GetJsonAsync(b, "/nodes"),
            n => n.EnumerateArray().All(x => x.GetProperty("alive").GetBoolean()),
            Deadline,
            "a to show alive again once its heartbeat resumes");
    }

    [Fact]
    public async Task TheServiceRidesOutADatabaseRestartAndLosesNothingItAccepted()
    {
        Prerequisite.NotInMutationRun("the service as a child process through a database restart");
        // A cluster of its own: stopping the shared one would disturb every other test.
        await using var own = PostgresCluster.StartPrivate();
        own.RequireServer();
        await using var service = await StartAsync(own, PostgresCluster.NewSchema(), workers: 2);
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await TryPostAsync(service, "{\"sleepMs\": 100}"))!);
        }

        own.Stop();

        // The pod stays live (no restart for a database blip), stops being ready, and refuses intake with 503.
        await Eventually.WaitAsync(async () => (await service.Client.GetAsync("/health/ready", Ct)).StatusCode, s => s == HttpStatusCode.ServiceUnavailable, Deadline, "readiness 503");
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/health/live", Ct)).StatusCode);
        using (var refused = await service.Client.PostAsync($"/queues/{Queue}/messages", Json("{}"), Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter is not null, "a 503 says when to retry");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        own.Start();

        await Eventually.WaitAsync(async () => (await service.Client.GetAsync("/health/ready", Ct)).StatusCode, s => s == HttpStatusCode.OK, Deadline, "readiness 200 again");
        ids.Add((await TryPostAsync(service, "{\"sleepMs\": 1}"))!);
        Assert.DoesNotContain(null, ids);
        var counts = await WaitForQuietAsync(service, ids.Count, Deadline);
        Assert.True(counts.GetProperty("balanced").GetBoolean(), counts.ToString());
        Assert.All(ids, id => Assert.Equal("succeeded", StatusAsync(service, id).GetAwaiter().GetResult()));
        Assert.False(service.HasExited);
    }
}
