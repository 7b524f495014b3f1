using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>What probes and views say, to the letter a client or Kubernetes reads them.</summary>
public sealed class ProbeAndViewTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task LivenessProbeIsUncachedPlainTextNamingEachCheck()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var live = await client.GetAsync("/health/live", Ct);
        using var ready = await client.GetAsync("/health/ready", Ct);
        using var full = await client.GetAsync("/health", Ct);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy\nworkers: Healthy (4 workers alive)\n", await live.Content.ReadAsStringAsync(Ct));
        Assert.Equal("text/plain", live.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var readyLines = (await ready.Content.ReadAsStringAsync(Ct)).Split('\n');
        Assert.Equal("Healthy", readyLines[0]);
        Assert.Contains(readyLines, l => l.StartsWith("workers: Healthy", StringComparison.Ordinal));
        Assert.Contains(readyLines, l => l.StartsWith("accepting: Healthy", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("application/json", full.Content.Headers.ContentType?.MediaType);
        foreach (var response in new[] { live, ready, full })
        {
            Assert.True(response.Headers.CacheControl?.NoStore, "a probe answer must not be cached");
            Assert.True(response.Headers.CacheControl?.NoCache, "a probe answer must not be cached");
        }

        var report = await full.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal("running", report.GetProperty("engine").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("workers").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ReadinessTurns503OnceAStopIsRequestedWhileLivenessStays200()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();
        using (await client.PostAsync("/queues/demo/pause", null, Ct)) { }
        using (await client.PostAsync("/queues/demo/messages", Json("{}"), Ct)) { }

        using var stop = await client.PostAsync("/shutdown", null, Ct);
        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        using var ready = await client.GetAsync("/health/ready", Ct);

        Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.StartsWith("Unhealthy\n", await ready.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("not accepting messages", await ready.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShutdownWithoutABodyUsesTheConfiguredDefaultModeAndASecondOneSaysItIsAlreadyStopping()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Shutdown:DefaultMode"] = "Immediate" }, holdHostOnStop: true);
        using var client = app.CreateClient();

        using var first = await client.PostAsync("/shutdown", null, Ct);
        using var second = await client.PostAsync("/shutdown", Json("""{"mode": "drain"}"""), Ct);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("/shutdown/report", first.Headers.Location?.OriginalString);
        var ticket = await first.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("immediate", ticket.GetProperty("mode").GetString());
        Assert.False(ticket.GetProperty("alreadyStopping").GetBoolean());
        var again = await second.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("immediate", again.GetProperty("mode").GetString());
        Assert.True(again.GetProperty("alreadyStopping").GetBoolean());
    }

    [Fact]
    public async Task ShutdownWithAnEmptyJsonObjectUsesTheDefaultMode()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/shutdown", Json("{}"), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("drain", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task DeadLettersAreListedOldestFirstUpToTheLimit()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var first = await DeadLetterAsync(client, "first");
        var second = await DeadLetterAsync(client, "second");

        var all = await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters", Ct);
        var one = await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters?limit=1", Ct);
        var atLeastOne = await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters?limit=0", Ct);
        var queue = await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct);

        Assert.Equal([first, second], all.EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        Assert.Equal(first, Assert.Single(one.EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(first, Assert.Single(atLeastOne.EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(2, queue.GetProperty("deadLetters").GetInt32());
        Assert.Equal("demo", queue.GetProperty("handler").GetString());
    }

    [Fact]
    public async Task QueueViewShowsPausedDepthAndBusyWorkers()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using (await client.PostAsync("/queues/demo/messages", Json("""{"sleepMs": 5000}"""), Ct)) { }
        await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct)).GetProperty("busyWorkers").GetInt32(),
            busy => busy == 1, TimeSpan.FromSeconds(10), "a worker to take the message");
        using (await client.PostAsync("/queues/demo/pause", null, Ct)) { }
        using (await client.PostAsync("/queues/demo/messages/batch", Json("[{}, {}]"), Ct)) { }

        var queue = await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct);

        Assert.True(queue.GetProperty("paused").GetBoolean());
        Assert.Equal(2, queue.GetProperty("depth").GetInt32());
        Assert.Equal(1, queue.GetProperty("busyWorkers").GetInt32());
        Assert.Equal(2, queue.GetProperty("workers").GetInt32());
        Assert.Equal(3, queue.GetProperty("counts").GetProperty("accepted").GetInt64());
    }

    [Fact]
    public async Task MessageViewCarriesThePayloadExactlyAndItsTimes()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        const string payload = """{"b": 1,  "a": [true, null, "é"]}""";

        using var posted = await client.PostAsync("/queues/default/messages", Json(payload), Ct);
        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(10), "the message to succeed");

        Assert.Equal(payload, message.GetProperty("payload").GetRawText());
        Assert.Equal("default", message.GetProperty("queue").GetString());
        Assert.Equal(1, message.GetProperty("attempts").GetInt32());
        Assert.StartsWith("default-", message.GetProperty("workerId").GetString(), StringComparison.Ordinal);
        var enqueued = message.GetProperty("enqueuedAt").GetDateTimeOffset();
        var started = message.GetProperty("startedAt").GetDateTimeOffset();
        var completed = message.GetProperty("completedAt").GetDateTimeOffset();
        Assert.True(enqueued <= started && started <= completed, $"{enqueued} <= {started} <= {completed}");
    }

    [Fact]
    public async Task JsonWithACharsetOrAPlusJsonTypeIsAcceptedAndPlainTextIsNot()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var charset = await client.PostAsync("/queues/default/messages", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
        using var plusJson = await client.PostAsync("/queues/default/messages", new StringContent("{}", Encoding.UTF8, "application/vnd.demo+json"), Ct);
        using var upper = await client.PostAsync("/queues/default/messages", Upper("{}"), Ct);
        using var text = await client.PostAsync("/queues/default/messages", new StringContent("{}", Encoding.UTF8, "text/plain"), Ct);

        Assert.Equal(HttpStatusCode.Accepted, charset.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, plusJson.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, upper.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        var detail = (await text.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString();
        Assert.Contains("(got 'text/plain; charset=utf-8')", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongMethodAnswers405ProblemNamingTheMethodAndPath()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PutAsync("/queues/default/messages", Json("{}"), Ct);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString();
        Assert.Equal("PUT is not allowed on /queues/default/messages. See /swagger for the methods it takes.", detail);
    }

    [Fact]
    public async Task AcceptedMessageAnswerIsOnePieceWithItsLengthTypeAndLocation()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages", Json("{}"), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var id = JsonDocument.Parse(bytes).RootElement.GetProperty("id").GetString();
        Assert.Equal($"/queues/default/messages/{id}", response.Headers.Location?.OriginalString);
    }

    private static ByteArrayContent Upper(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.TryAddWithoutValidation("Content-Type", "APPLICATION/JSON");
        return content;
    }

    private static async Task<string> DeadLetterAsync(HttpClient client, string why)
    {
        using var posted = await client.PostAsync("/queues/demo/messages", Json($$"""{"fail": "{{why}}"}"""), Ct);
        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "deadLettered",
            TimeSpan.FromSeconds(10), $"message '{why}' to be dead-lettered");
        return message.GetProperty("id").GetString()!;
    }
}
