using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class DelayedDeliveryApiTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<JsonElement> MessageAsync(HttpClient client, string queue, string id) =>
        client.GetFromJsonAsync<JsonElement>($"/queues/{queue}/messages/{id}", TestContext.Current.CancellationToken);

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task ADelayedMessageIsScheduledWithItsDueTimeAndRunsNoSoonerThanThat(string provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages?delay=0.5", Json("""{"later": true}"""), ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("scheduled", accepted.GetProperty("status").GetString());
        var id = accepted.GetProperty("id").GetString()!;
        var due = accepted.GetProperty("dueAt").GetDateTimeOffset();
        var first = await MessageAsync(client, "default", id);
        Assert.Equal(due, first.GetProperty("dueAt").GetDateTimeOffset());

        var done = await Eventually.WaitAsync(() => MessageAsync(client, "default", id), m => m.GetProperty("status").GetString() == "succeeded", Wait, "the delayed message to run");
        Assert.True(done.GetProperty("startedAt").GetDateTimeOffset() >= due, $"started {done.GetProperty("startedAt")} before its due time {due:O}");
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task AScheduledMessageCanBeCancelledAndIsCountedAsDroppedCancelled(string provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();
        var at = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        using var response = await client.PostAsync($"/queues/default/messages?notBefore={at}", Json("{}"), ct);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        var scheduled = await MessageAsync(client, "default", id);
        Assert.Equal("scheduled", scheduled.GetProperty("status").GetString());
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/queues/default", ct)).GetProperty("counts").GetProperty("scheduled").GetInt32());

        using var cancel = await client.DeleteAsync($"/queues/default/messages/{id}", ct);

        Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        var counts = (await client.GetFromJsonAsync<JsonElement>("/queues/default", ct)).GetProperty("counts");
        Assert.Equal(0, counts.GetProperty("scheduled").GetInt32());
        Assert.Equal(1, counts.GetProperty("droppedReasons").GetProperty("cancelled").GetInt64());
        using var again = await client.DeleteAsync($"/queues/default/messages/{id}", ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task CancellingARunningMessageAnswers409AndAnUnknownOne404(string provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.On(provider, ("QueueApi:Shutdown:DefaultMode", "Immediate"));
        using var client = app.CreateClient();
        using var response = await client.PostAsync("/queues/demo/messages", Json("""{"sleepMs": 60000}"""), ct);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        await Eventually.WaitAsync(() => MessageAsync(client, "demo", id), m => m.GetProperty("status").GetString() == "processing", Wait, "the message to run");

        using var running = await client.DeleteAsync($"/queues/demo/messages/{id}", ct);
        using var unknown = await client.DeleteAsync("/queues/demo/messages/00000000000000000000", ct);

        Assert.Equal(HttpStatusCode.Conflict, running.StatusCode);
        var problem = await running.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Message is running", problem.GetProperty("title").GetString());
        Assert.Equal(
            $"Message '{id}' is already with a worker and cannot be cancelled. GET /queues/demo/messages/{id} shows how it ends.",
            problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task CancellingAFinishedMessageAnswers409SayingThereIsNothingToCancel(string provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();
        using var response = await client.PostAsync("/queues/default/messages", Json("{}"), ct);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        await Eventually.WaitAsync(() => MessageAsync(client, "default", id), m => m.GetProperty("status").GetString() == "succeeded", Wait, "the message to finish");

        using var finished = await client.DeleteAsync($"/queues/default/messages/{id}", ct);

        Assert.Equal(HttpStatusCode.Conflict, finished.StatusCode);
        var problem = await finished.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Message already finished", problem.GetProperty("title").GetString());
        Assert.Equal(
            $"Message '{id}' already reached a final status; there is nothing to cancel. GET /queues/default/messages/{id} shows it.",
            problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ABatchWithOnlyNotBeforeIsScheduledAndAPlainBatchIsQueued()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.OnMemory();
        using var client = app.CreateClient();
        var at = DateTimeOffset.UtcNow.AddHours(1);

        using var scheduled = await client.PostAsync($"/queues/default/messages/batch?notBefore={Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture))}", Json("[{}]"), ct);
        using var plain = await client.PostAsync("/queues/default/messages/batch", Json("[{}]"), ct);

        var later = await scheduled.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(("scheduled", at), (later.GetProperty("status").GetString(), later.GetProperty("dueAt").GetDateTimeOffset()));
        var now = await plain.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(HttpStatusCode.Accepted, plain.StatusCode);
        Assert.Equal(("queued", JsonValueKind.Null), (now.GetProperty("status").GetString(), now.GetProperty("dueAt").ValueKind));
        Assert.Equal("/queues/default", plain.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task ADelayedBatchIsScheduledAsAWhole(string provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages/batch?delay=3600", Json("""[{"n": 1}, {"n": 2}]"""), ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("scheduled", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("dueAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(59));
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/queues/default", ct)).GetProperty("counts").GetProperty("scheduled").GetInt32());
    }

    [Theory]
    [InlineData("delay=-1", "delay '-1'")]
    [InlineData("delay=abc", "delay 'abc'")]
    [InlineData("delay=1e3", "delay '1e3'")]
    [InlineData("delay=2592001", "delay '2592001'")]
    [InlineData("notBefore=2026-12-01", "notBefore '2026-12-01'")]
    [InlineData("notBefore=2026-12-01T10:00:00", "notBefore '2026-12-01T10:00:00'")]
    [InlineData("notBefore=2999-01-01T00:00:00Z", "more than 30 days ahead")]
    [InlineData("delay=1&notBefore=2026-12-01T10:00:00Z", "either delay or notBefore")]
    public async Task ABadDeliveryTimeIs400SayingWhatToSendAndNothingIsQueued(string query, string detail)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = QueueApiApplication.OnMemory();
        using var client = app.CreateClient();

        using var response = await client.PostAsync($"/queues/default/messages?{query}", Json("{}"), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Invalid delivery time", problem.GetProperty("title").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/queues/default", ct)).GetProperty("counts").GetProperty("accepted").GetInt64());
    }
}
