using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>The OpenAPI document gives Swagger UI requests that work and answers that show what comes back.</summary>
public sealed class OpenApiExamplesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonElement Operation(JsonElement document, string path, string method) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static JsonElement RequestExample(JsonElement operation) =>
        operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");

    private static JsonElement ResponseExample(JsonElement operation, string status, string type = "application/json") =>
        operation.GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty(type).GetProperty("example");

    [Fact]
    public async Task EnqueueBatchAndShutdownBodiesHaveExamplesThatTheServiceAccepts()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);

        var enqueue = RequestExample(Operation(document, "/queues/{queue}/messages", "post"));
        var batch = RequestExample(Operation(document, "/queues/{queue}/messages/batch", "post"));
        var shutdown = Operation(document, "/shutdown", "post");

        Assert.Equal(500, enqueue.GetProperty("sleepMs").GetInt32());
        Assert.Equal(3, batch.GetArrayLength());
        Assert.Equal("drain", RequestExample(shutdown).GetProperty("mode").GetString());
        Assert.False(shutdown.GetProperty("requestBody").TryGetProperty("required", out var required) && required.GetBoolean(), "the shutdown body is optional");

        // The examples are requests that work, on the demo queue whose handler reads them.
        using var one = await client.PostAsync("/queues/demo/messages", new StringContent(enqueue.GetRawText(), Encoding.UTF8, "application/json"), Ct);
        using var many = await client.PostAsync("/queues/demo/messages/batch", new StringContent(batch.GetRawText(), Encoding.UTF8, "application/json"), Ct);
        using var stop = await client.PostAsync("/shutdown", new StringContent(RequestExample(shutdown).GetRawText(), Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, one.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, many.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
    }

    [Fact]
    public async Task TheQueueParameterDefaultsToDefaultOnEveryOperation()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);

        var queueParameters = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject())
            .Where(o => o.Value.TryGetProperty("parameters", out _))
            .SelectMany(o => o.Value.GetProperty("parameters").EnumerateArray())
            .Where(p => p.GetProperty("name").GetString() == "queue")
            .ToList();

        Assert.True(queueParameters.Count >= 9, $"only {queueParameters.Count} operations take a queue");
        Assert.All(queueParameters, p =>
        {
            Assert.Equal("default", p.GetProperty("schema").GetProperty("default").GetString());
            Assert.Equal("default", p.GetProperty("example").GetString());
        });
    }

    [Fact]
    public async Task AnswersHaveExamplesShapedLikeTheRealAnswers()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);
        using var real = await client.PostAsync("/queues/default/messages", new StringContent("""{"sleepMs": 500}""", Encoding.UTF8, "application/json"), Ct);
        var answer = await real.Content.ReadFromJsonAsync<JsonElement>(Ct);

        var accepted = ResponseExample(Operation(document, "/queues/{queue}/messages", "post"), "202");
        var malformed = ResponseExample(Operation(document, "/queues/{queue}/messages", "post"), "400", "application/problem+json");
        var batch = ResponseExample(Operation(document, "/queues/{queue}/messages/batch", "post"), "202");
        var shutdown = ResponseExample(Operation(document, "/shutdown", "post"), "202");
        var crash = ResponseExample(Operation(document, "/workers/{id}/crash", "post"), "202");

        Assert.Equal(answer.EnumerateObject().Select(p => p.Name), accepted.EnumerateObject().Select(p => p.Name));
        Assert.Equal(answer.GetProperty("id").GetString()!.Length, accepted.GetProperty("id").GetString()!.Length);
        Assert.Equal("Malformed JSON", malformed.GetProperty("title").GetString());
        Assert.Equal(3, batch.GetProperty("count").GetInt32());
        Assert.Equal("drain", shutdown.GetProperty("mode").GetString());
        Assert.Equal("crash", crash.GetProperty("fault").GetString());
    }
}
