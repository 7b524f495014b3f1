using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>The benchmark-only route exists only when asked for, and then only reads the body.</summary>
public sealed class BenchEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EchoIsNotMappedByDefault()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/bench/echo", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task EchoReadsTheWholeBodyAndAnswers202WithoutEnqueueing()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Api:BenchmarkEndpoints"] = "true" });
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });
        var body = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($"\"{new string('x', 100_000)}\"")));

        using var response = await client.PostAsync("/bench/echo", body, Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var queues = await client.GetFromJsonAsync<JsonElement>("/queues", Ct);
        Assert.All(queues.EnumerateArray(), q => Assert.Equal(0, q.GetProperty("counts").GetProperty("accepted").GetInt64()));
    }

    [Fact]
    public async Task AcceptedMessageAnswerIsOnePieceWithItsLengthAndLocation()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var id = JsonDocument.Parse(bytes).RootElement.GetProperty("id").GetString();
        Assert.Equal($"/queues/default/messages/{id}", response.Headers.Location?.OriginalString);
    }
}
