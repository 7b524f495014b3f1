using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class IdempotencyApiTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient client, string path, string json, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken), response);
    }

    private static async Task<long> AcceptedAsync(HttpClient client, string queue = "default") =>
        (await client.GetFromJsonAsync<JsonElement>($"/queues/{queue}", TestContext.Current.CancellationToken)).GetProperty("counts").GetProperty("accepted").GetInt64();

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task ARetriedPostWithTheSameKeyAndBodyAnswers200WithTheFirstMessageAndStoresNoSecond(string provider)
    {
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();

        var (firstStatus, first, r1) = await PostAsync(client, "/queues/default/messages", """{"order": 42}""", "order-42-attempt");
        var (againStatus, again, r2) = await PostAsync(client, "/queues/default/messages", """{"order": 42}""", "order-42-attempt");
        using (r1)
        using (r2)
        {
            Assert.Equal(HttpStatusCode.Accepted, firstStatus);
            Assert.Equal(HttpStatusCode.OK, againStatus);
            Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
            Assert.Equal("true", r2.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(r1.Headers.Location, r2.Headers.Location);
            Assert.False(r1.Headers.Contains("Idempotent-Replayed"));
        }

        Assert.Equal(1, await AcceptedAsync(client));
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task TheSameKeyWithAnotherBodyAnswers422AndStoresNothing(string provider)
    {
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();
        (await PostAsync(client, "/queues/default/messages", """{"n": 1}""", "k-1")).Response.Dispose();

        var (status, problem, response) = await PostAsync(client, "/queues/default/messages", """{"n": 2}""", "k-1");
        using (response)
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Equal("Idempotency key reused", problem.GetProperty("title").GetString());
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(1, await AcceptedAsync(client));
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task ConcurrentRetriesWithOneKeyMakeOneMessage(string provider)
    {
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => PostAsync(client, "/queues/default/messages", "{}", "same-key")));

        Assert.Single(answers.Select(a => a.Body.GetProperty("id").GetString()).Distinct());
        Assert.Single(answers, a => a.Status == HttpStatusCode.Accepted);
        Assert.Equal(1, await AcceptedAsync(client));
        foreach (var a in answers)
        {
            a.Response.Dispose();
        }
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("has space")]
    public async Task AKeyThatIsNotOneVisibleAsciiTokenIsA400(string key)
    {
        await using var app = QueueApiApplication.OnMemory();
        using var client = app.CreateClient();

        var (status, problem, response) = await PostAsync(client, "/queues/default/messages", "{}", key);
        using (response)
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("Invalid idempotency key", problem.GetProperty("title").GetString());
        }

        Assert.Equal(0, await AcceptedAsync(client));
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task ABatchTakesOneKeyPerItemAndARepeatedBatchAnswers200WithTheSameIds(string provider)
    {
        await using var app = QueueApiApplication.On(provider);
        using var client = app.CreateClient();
        const string items = """[{"n": 1}, {"n": 2}, {"n": 3}]""";

        var (firstStatus, first, r1) = await PostAsync(client, "/queues/default/messages/batch", items, "item-1, , item-3");
        var (againStatus, again, r2) = await PostAsync(client, "/queues/default/messages/batch", """[{"n": 1}, {"n": 3}]""", "item-1,item-3");
        var (wrongStatus, wrong, r3) = await PostAsync(client, "/queues/default/messages/batch", items, "only-one");
        using (r1)
        using (r2)
        using (r3)
        {
            Assert.Equal(HttpStatusCode.Accepted, firstStatus);
            Assert.Equal(0, first.GetProperty("replayed").GetInt32());
            Assert.Equal(HttpStatusCode.OK, againStatus);
            Assert.Equal(2, again.GetProperty("replayed").GetInt32());
            var ids = first.GetProperty("ids").EnumerateArray().Select(e => e.GetString()).ToArray();
            Assert.Equal([ids[0], ids[2]], again.GetProperty("ids").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(HttpStatusCode.BadRequest, wrongStatus);
            Assert.Contains("one key per item", wrong.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(3, await AcceptedAsync(client));
    }
}
