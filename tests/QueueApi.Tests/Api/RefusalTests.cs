using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// Refusals a client must be able to act on: 429 for a full queue and 503 while stopping, on enqueue and on
/// requeue, each with the configured Retry-After (not the default of 1, which a hard-coded value would also give).
/// </summary>
public sealed class RefusalTests
{
    private const int RetryAfter = 7;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static QueueApiApplication App(int demoCapacity = 10_000) => new(new Dictionary<string, string?>
    {
        ["QueueApi:Api:RetryAfterSeconds"] = RetryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["QueueApi:Queues:demo:Capacity"] = demoCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    [Fact]
    public async Task FullQueueAnswers429WithTheConfiguredRetryAfter()
    {
        await using var app = App(demoCapacity: 1);
        using var client = app.CreateClient();
        using (await client.PostAsync("/queues/demo/pause", null, Ct)) { }
        using (var first = await client.PostAsync("/queues/demo/messages", Json("{}"), Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        using var single = await client.PostAsync("/queues/demo/messages", Json("{}"), Ct);
        using var batch = await client.PostAsync("/queues/demo/messages/batch", Json("[{}]"), Ct);

        foreach (var response in new[] { single, batch })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(RetryAfter), response.Headers.RetryAfter?.Delta);
            var detail = await DetailAsync(response);
            Assert.Contains("capacity of 1 messages", detail, StringComparison.Ordinal);
            Assert.Contains($"Retry after {RetryAfter} s", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StoppingServiceAnswers503WithTheConfiguredRetryAfter()
    {
        await using var app = App();
        using var client = app.CreateClient();
        await StopAsync(app);

        using var single = await client.PostAsync("/queues/demo/messages", Json("{}"), Ct);
        using var batch = await client.PostAsync("/queues/demo/messages/batch", Json("[{}]"), Ct);
        // Stopping is said before the body is read: a client with a bad body learns first that it must come back.
        using var bad = await client.PostAsync("/queues/demo/messages", Json("{not json"), Ct);

        foreach (var response in new[] { single, batch, bad })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(RetryAfter), response.Headers.RetryAfter?.Delta);
            Assert.Contains($"Retry after {RetryAfter} s", await DetailAsync(response), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RequeueIntoAFullQueueAnswers429AndKeepsTheDeadLetter()
    {
        await using var app = App(demoCapacity: 1);
        using var client = app.CreateClient();
        var id = await DeadLetterAsync(client);
        using (await client.PostAsync("/queues/demo/pause", null, Ct)) { }
        using (var filler = await client.PostAsync("/queues/demo/messages", Json("{}"), Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, filler.StatusCode);
        }

        using var response = await client.PostAsync($"/queues/demo/dead-letters/{id}/requeue", null, Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(RetryAfter), response.Headers.RetryAfter?.Delta);
        Assert.Contains("capacity of 1 messages", await DetailAsync(response), StringComparison.Ordinal);
        var letters = await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters", Ct);
        Assert.Equal(id, Assert.Single(letters.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task RequeueWhileStoppingAnswers503AndKeepsTheDeadLetter()
    {
        await using var app = App();
        using var client = app.CreateClient();
        var id = await DeadLetterAsync(client);
        await StopAsync(app);

        using var response = await client.PostAsync($"/queues/demo/dead-letters/{id}/requeue", null, Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(RetryAfter), response.Headers.RetryAfter?.Delta);
        Assert.Contains("shutting down", await DetailAsync(response), StringComparison.Ordinal);
        var letters = await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters", Ct);
        Assert.Equal(id, Assert.Single(letters.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task RequeueOfAnUnknownDeadLetterAnswers404NamingIt()
    {
        await using var app = App();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/demo/dead-letters/nope/requeue", null, Ct);
        using var unknownQueue = await client.PostAsync("/queues/nope/dead-letters/nope/requeue", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no dead letter 'nope'", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknownQueue.StatusCode);
        Assert.Contains("no queue named 'nope'", await DetailAsync(unknownQueue), StringComparison.Ordinal);
    }

    /// <summary>Posts a message that always fails and waits until it is a dead letter; returns its id.</summary>
    private static async Task<string> DeadLetterAsync(HttpClient client)
    {
        using var posted = await client.PostAsync("/queues/demo/messages", Json("""{"fail": "always"}"""), Ct);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "deadLettered",
            TimeSpan.FromSeconds(10), "the message to be dead-lettered");
        return message.GetProperty("id").GetString()!;
    }

    private static async Task StopAsync(QueueApiApplication app)
    {
        var engine = app.Services.GetRequiredService<QueueEngine>();
        engine.RequestStop(ShutdownMode.Drain);
        await engine.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString()!;
    }
}
