using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class MessageApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task PostingAMessageReturns202WithLocationAndId()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages", Json("""{"hello": "world"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var id = body.GetProperty("id").GetString();
        Assert.Equal("default", body.GetProperty("queue").GetString());
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal($"/queues/default/messages/{id}", response.Headers.Location?.ToString());

        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(response.Headers.Location, TestContext.Current.CancellationToken),
            m => m.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(10),
            "the message to succeed");
        Assert.Equal("""{"hello": "world"}""", message.GetProperty("payload").GetRawText());
        Assert.Equal(1, message.GetProperty("attempts").GetInt32());
        Assert.StartsWith("default-", message.GetProperty("workerId").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain", "{}", 415, null, "Content-Type: application/json")]
    [InlineData("application/json", "{\"a\": ", 400, "Malformed JSON", "Fix the JSON")]
    [InlineData("application/json", "", 400, "Empty body", null)]
    public async Task PostingWhatIsNotAJsonBodyReturnsAProblemSayingWhatToFix(string contentType, string body, int status, string? title, string? detail)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages", new StringContent(body, Encoding.UTF8, contentType), TestContext.Current.CancellationToken);

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        var problem = await ProblemAsync(response);
        if (title is not null)
        {
            Assert.Equal(title, problem.GetProperty("title").GetString());
        }

        if (detail is not null)
        {
            Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PostingABodyOverTheLimitReturns413NamingTheSetting()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Api:MaxMessageBytes"] = "64" });
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages", Json($"\"{new string('x', 100)}\""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("MaxMessageBytes", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostingToAnUnknownQueueReturns404ListingTheQueues()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/nope/messages", Json("{}"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var detail = (await ProblemAsync(response)).GetProperty("detail").GetString();
        Assert.Contains("'nope'", detail, StringComparison.Ordinal);
        Assert.Contains("default, demo", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostingToAFullQueueReturns429WithRetryAfter()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Queues:default:Capacity"] = "2" });
        using var client = app.CreateClient();
        using (await client.PostAsync("/queues/default/pause", null, TestContext.Current.CancellationToken)) { }

        for (var i = 0; i < 2; i++)
        {
            using var ok = await client.PostAsync("/queues/default/messages", Json("{}"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        }

        using var response = await client.PostAsync("/queues/default/messages", Json("{}"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Contains("Capacity", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostingWhileShuttingDownReturns503WithRetryAfter()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var engine = app.Services.GetRequiredService<QueueApi.Engine.QueueEngine>();
        engine.RequestStop(QueueApi.Engine.Configuration.ShutdownMode.Drain);
        await engine.Completion.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        using var response = await client.PostAsync("/queues/default/messages", Json("{}"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("shutting down", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchReturnsIdsInOrderAndEachPayloadExactlyAsSent()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages/batch", Json("""[{"n": 1}, [2, 3], "four" , 5]"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var ids = body.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(4, ids.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        var payloads = new List<string>();
        foreach (var id in ids)
        {
            var m = await client.GetFromJsonAsync<JsonElement>($"/queues/default/messages/{id}", TestContext.Current.CancellationToken);
            payloads.Add(m.GetProperty("payload").GetRawText());
        }

        Assert.Equal(["""{"n": 1}""", "[2, 3]", "\"four\"", "5"], payloads);
    }

    [Theory]
    [InlineData("[]", "empty")]
    [InlineData("{\"n\": 1}", "must be a JSON array")]
    [InlineData("[1,2,3,4]", "more than 3 messages")]
    [InlineData("[{\"n\": 1}, {\"n\": ", "not valid JSON")] // cut off inside the array
    [InlineData("[1, 2] 3", "not valid JSON")] // content after the array
    [InlineData("{\"n\": ", "not valid JSON")] // malformed and not an array: malformed wins
    public async Task InvalidBatchReturns400SayingWhatToChange(string body, string expected)
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Api:MaxBatchSize"] = "3" });
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages/batch", Json(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchThatDoesNotFitIsRefusedWhole()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Queues:default:Capacity"] = "3" });
        using var client = app.CreateClient();
        using (await client.PostAsync("/queues/default/pause", null, TestContext.Current.CancellationToken)) { }
        using (await client.PostAsync("/queues/default/messages", Json("{}"), TestContext.Current.CancellationToken)) { }

        using var response = await client.PostAsync("/queues/default/messages/batch", Json("[1,2,3]"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var queue = await client.GetFromJsonAsync<JsonElement>("/queues/default", TestContext.Current.CancellationToken);
        Assert.Equal(1, queue.GetProperty("depth").GetInt32());
    }

    [Fact]
    public async Task UnknownMessageReturns404()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/queues/default/messages/0000", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Unknown message", (await ProblemAsync(response)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task UnknownRouteReturnsProblemDetailsPointingToSwagger()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/nothing/here", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/swagger", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
