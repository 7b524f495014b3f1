using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class QueueAndWorkerApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task QueuesListsEveryQueueWithItsCounts()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var queues = await client.GetFromJsonAsync<JsonElement>("/queues", Ct);

        Assert.Equal(["default", "demo"], queues.EnumerateArray().Select(q => q.GetProperty("name").GetString()));
        var first = queues[0];
        Assert.Equal(10_000, first.GetProperty("capacity").GetInt32());
        Assert.Equal(2, first.GetProperty("workers").GetInt32());
        Assert.True(first.GetProperty("accepting").GetBoolean());
        Assert.Equal("closed", first.GetProperty("circuit").GetProperty("state").GetString());
        Assert.True(first.GetProperty("counts").GetProperty("balanced").GetBoolean());
    }

    [Fact]
    public async Task UnknownQueueReturns404()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/queues/nope", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task WorkersShowEveryThreadWithItsStateAndCurrentMessage()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using var posted = await client.PostAsync("/queues/demo/messages", Json("""{"sleepMs": 5000}"""), Ct);
        var id = (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();

        var busy = await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/workers", Ct)).EnumerateArray().FirstOrDefault(w => w.GetProperty("currentMessageId").GetString() == id),
            w => w.ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(10),
            "a worker to pick up the message");

        Assert.Equal("busy", busy.GetProperty("state").GetString());
        Assert.True(busy.GetProperty("isAlive").GetBoolean());
        Assert.True(busy.GetProperty("isBackground").GetBoolean());
        Assert.StartsWith("queueapi demo-", busy.GetProperty("threadName").GetString(), StringComparison.Ordinal);
        Assert.True(busy.GetProperty("managedThreadId").GetInt32() > 0);
        Assert.NotEqual(JsonValueKind.Null, busy.GetProperty("busySince").ValueKind);

        var all = await client.GetFromJsonAsync<JsonElement>("/workers", Ct);
        Assert.Equal(4, all.GetArrayLength());
        var one = await client.GetFromJsonAsync<JsonElement>($"/workers/{busy.GetProperty("id").GetString()}", Ct);
        Assert.Equal(busy.GetProperty("managedThreadId").GetInt32(), one.GetProperty("managedThreadId").GetInt32());
        using var missing = await client.GetAsync("/workers/nope-1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task PausedQueueShowsPausedWorkersAndResumeRunsTheWaitingMessages()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var paused = await client.PostAsync("/queues/demo/pause", null, Ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True((await paused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("paused").GetBoolean());
        await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/workers", Ct)).EnumerateArray().Where(w => w.GetProperty("queue").GetString() == "demo").All(w => w.GetProperty("state").GetString() == "paused"),
            x => x, TimeSpan.FromSeconds(10), "demo workers to show paused");
        using var posted = await client.PostAsync("/queues/demo/messages", Json("{}"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var queue = await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct);
        Assert.Equal(1, queue.GetProperty("depth").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready", Ct)).StatusCode);

        using var resumed = await client.PostAsync("/queues/demo/resume", null, Ct);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);

        await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(10), "the message to run after resume");
    }

    [Fact]
    public async Task FailingMessageIsDeadLetteredAndCanBeRequeuedOrDeleted()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using var posted = await client.PostAsync("/queues/demo/messages", Json("""{"fail": "always"}"""), Ct);

        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "deadLettered",
            TimeSpan.FromSeconds(10), "the message to be dead-lettered");
        Assert.Equal(3, message.GetProperty("attempts").GetInt32());
        Assert.Contains("always", message.GetProperty("error").GetString(), StringComparison.Ordinal);
        var id = message.GetProperty("id").GetString();

        var letters = await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters", Ct);
        Assert.Equal(id, Assert.Single(letters.EnumerateArray()).GetProperty("id").GetString());

        using var requeued = await client.PostAsync($"/queues/demo/dead-letters/{id}/requeue", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, requeued.StatusCode);
        await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "deadLettered" && m.GetProperty("completedAt").ValueKind != JsonValueKind.Null,
            TimeSpan.FromSeconds(10), "the requeued message to fail again");

        using var deleted = await client.DeleteAsync($"/queues/demo/dead-letters/{id}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var again = await client.DeleteAsync($"/queues/demo/dead-letters/{id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);

        var counts = (await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct)).GetProperty("counts");
        Assert.Equal(1, counts.GetProperty("dropped").GetInt32());
        Assert.Equal(0, counts.GetProperty("deadLettered").GetInt32());
        Assert.True(counts.GetProperty("balanced").GetBoolean());
    }

    [Fact]
    public async Task RetryingMessageShowsItsAttemptAndNextAttemptTime()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            ["QueueApi:Queues:demo:BaseDelay"] = "00:00:05",
            ["QueueApi:Queues:demo:MaxDelay"] = "00:00:05",
        });
        using var client = app.CreateClient();
        using var posted = await client.PostAsync("/queues/demo/messages", Json("""{"failAttempts": 1}"""), Ct);

        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "retrying",
            TimeSpan.FromSeconds(10), "the message to wait for its retry");

        Assert.Equal(1, message.GetProperty("attempts").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, message.GetProperty("nextAttemptAt").ValueKind);
        var worker = await client.GetFromJsonAsync<JsonElement>($"/workers/{message.GetProperty("workerId").GetString()}", Ct);
        Assert.Equal("retrying", worker.GetProperty("state").GetString());
        Assert.Equal(message.GetProperty("id").GetString(), worker.GetProperty("currentMessageId").GetString());
        Assert.NotEqual(JsonValueKind.Null, worker.GetProperty("nextAttemptAt").ValueKind);
    }

    [Fact]
    public async Task CrashWhenChaosIsOffReturns404SayingHowToTurnItOn()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Chaos:Enabled"] = "false" });
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/workers/default-1/crash", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("QueueApi:Chaos:Enabled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(app.Services.GetRequiredService<QueueEngine>().IsLive(out _));
    }

    [Fact]
    public async Task CrashingAWorkerTurnsLivenessAndReadinessTo503AndTheReportNamesIt()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);

        using var crashed = await client.PostAsync("/workers/default-2/crash", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, crashed.StatusCode);
        // The answer is the request and where to watch, not a view of the worker claiming it is still alive.
        Assert.Equal("/workers/default-2", crashed.Headers.Location?.ToString());
        var ack = await crashed.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("default-2", ack.GetProperty("workerId").GetString());
        Assert.Equal("crash", ack.GetProperty("fault").GetString());
        Assert.Equal("/workers/default-2", ack.GetProperty("worker").GetString());
        Assert.False(ack.TryGetProperty("isAlive", out _));

        await Eventually.WaitAsync(async () => (await client.GetAsync("/health/live", Ct)).StatusCode, s => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5), "liveness to fail");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready", Ct)).StatusCode);
        var engine = app.Services.GetRequiredService<QueueEngine>();
        await engine.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var report = await client.GetFromJsonAsync<JsonElement>("/shutdown/report", Ct);
        Assert.Equal("workerFaulted", report.GetProperty("reason").GetString());
        Assert.Equal("default-2", report.GetProperty("firstFailure").GetProperty("workerId").GetString());
        Assert.Equal(3, report.GetProperty("exitCode").GetInt32());
        var worker = await client.GetFromJsonAsync<JsonElement>("/workers/default-2", Ct);
        Assert.Equal("faulted", worker.GetProperty("state").GetString());
        Assert.False(worker.GetProperty("isAlive").GetBoolean());
        Assert.Contains("crash", worker.GetProperty("fault").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthReportListsEveryCheckQueueAndWorker()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var health = await client.GetFromJsonAsync<JsonElement>("/health", Ct);

        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal("running", health.GetProperty("engine").GetString());
        Assert.True(health.GetProperty("checks").TryGetProperty("workers", out _));
        Assert.Equal("accepting messages on 2 queues", health.GetProperty("checks").GetProperty("accepting").GetProperty("description").GetString());
        Assert.Equal("4 workers alive", health.GetProperty("checks").GetProperty("workers").GetProperty("description").GetString());
        Assert.Equal(2, health.GetProperty("queues").GetArrayLength());
        Assert.Equal(4, health.GetProperty("workers").GetArrayLength());
    }

    [Fact]
    public async Task ShutdownReportIs404WhileRunning()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/shutdown/report", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ShutdownWithAnUnknownModeReturns400()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/shutdown", Json("""{"mode": "later"}"""), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(app.Services.GetRequiredService<QueueEngine>().IsReady(out _));
    }

    [Fact]
    public async Task ShutdownInImmediateModeAnswers202WithTheModeAndAsksTheHostToStop()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/shutdown", Json("""{"mode": "immediate"}"""), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ticket = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("immediate", ticket.GetProperty("mode").GetString());
        Assert.False(ticket.GetProperty("alreadyStopping").GetBoolean());
        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var report = await app.Services.GetRequiredService<QueueEngine>().Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(QueueApi.Engine.Configuration.ShutdownMode.Immediate, report.Mode);
        var served = await client.GetFromJsonAsync<JsonElement>("/shutdown/report", Ct);
        Assert.True(served.GetProperty("complete").GetBoolean());
        Assert.Equal("requested", served.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task SwaggerUiAndTheOpenApiDocumentDescribeEveryRoute()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html", Ct)).StatusCode);
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);
        var paths = doc.GetProperty("paths");
        string[] expected =
        [
            "/queues/{queue}/messages", "/queues/{queue}/messages/batch", "/queues/{queue}/messages/{id}", "/queues", "/queues/{queue}",
            "/queues/{queue}/pause", "/queues/{queue}/resume", "/queues/{queue}/dead-letters", "/queues/{queue}/dead-letters/{id}/requeue",
            "/queues/{queue}/dead-letters/{id}", "/workers", "/workers/{id}", "/workers/{id}/crash", "/workers/{id}/hang", "/shutdown",
            "/shutdown/report", "/health/live", "/health/ready", "/health",
        ];
        foreach (var path in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            foreach (var op in item.EnumerateObject())
            {
                Assert.True(op.Value.TryGetProperty("summary", out _), $"{op.Name} {path} has no summary");
            }
        }

        var enqueue = paths.GetProperty("/queues/{queue}/messages").GetProperty("post").GetProperty("responses");
        foreach (var status in new[] { "202", "400", "404", "413", "415", "429", "503" })
        {
            Assert.True(enqueue.TryGetProperty(status, out _), $"enqueue does not document {status}");
        }
    }
}
