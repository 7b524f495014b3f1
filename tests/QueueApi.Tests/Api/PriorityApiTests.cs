using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class PriorityApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("/queues/default/messages", "{}", "10")]
    [InlineData("/queues/default/messages", "{}", "-1")]
    [InlineData("/queues/default/messages", "{}", "high")]
    [InlineData("/queues/default/messages", "{}", "5.5")]
    [InlineData("/queues/default/messages", "{}", "")]
    [InlineData("/queues/default/messages/batch", "[{}]", "99")]
    public async Task EnqueueWithAPriorityOutsideZeroToNineReturns400NamingTheValueAndTheRange(string route, string body, string priority)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        using var response = await client.PostAsync($"{route}?priority={Uri.EscapeDataString(priority)}", Json(body), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Invalid priority", problem.GetProperty("title").GetString());
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains($"priority='{priority}'", detail, StringComparison.Ordinal);
        Assert.Contains("from 0 to 9", detail, StringComparison.Ordinal);
        var queue = await client.GetFromJsonAsync<JsonElement>("/queues/default", ct);
        Assert.Equal(0, queue.GetProperty("counts").GetProperty("accepted").GetInt64());
    }

    [Fact]
    public async Task PrioritiesShowInTheMessageStatusAndTheQueueViewAndTheHighestRunsFirst()
    {
        await using var app = QueueApiApplication.OnMemory(("QueueApi:Queues:default:Workers", "1"));
        using var client = app.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        (await client.PostAsync("/queues/default/pause", null, ct)).EnsureSuccessStatusCode();

        var low = await PostAsync(client, "/queues/default/messages?priority=1", "{}");
        var plain = await PostAsync(client, "/queues/default/messages", "{}");
        using var batch = await client.PostAsync("/queues/default/messages/batch?priority=9", Json("[{}, {}]"), ct);
        Assert.Equal(HttpStatusCode.Accepted, batch.StatusCode);
        var urgent = (await batch.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("ids").EnumerateArray().Select(i => i.GetString()!).ToList();

        var view = await client.GetFromJsonAsync<JsonElement>("/queues/default", ct);
        var lanes = view.GetProperty("priorities").EnumerateArray().Select(l => (l.GetProperty("priority").GetInt32(), l.GetProperty("queued").GetInt32())).ToList();
        Assert.Equal([(9, 2), (5, 1), (1, 1)], lanes);
        Assert.Equal(9, (await MessageAsync(client, urgent[0])).GetProperty("priority").GetInt32());
        Assert.Equal(5, (await MessageAsync(client, plain)).GetProperty("priority").GetInt32());

        (await client.PostAsync("/queues/default/resume", null, ct)).EnsureSuccessStatusCode();
        var started = new List<(DateTimeOffset At, string Id)>();
        foreach (var id in urgent.Append(plain).Append(low))
        {
            var m = await Eventually.WaitAsync(() => MessageAsync(client, id), m => m.GetProperty("status").GetString() == "succeeded", TimeSpan.FromSeconds(10), $"message {id} to succeed");
            started.Add((m.GetProperty("startedAt").GetDateTimeOffset(), id));
        }

        Assert.Equal([.. urgent, plain, low], started.OrderBy(s => s.At).Select(s => s.Id));
    }

    [Fact]
    public async Task AStoreThatDoesNotKeepPrioritiesAnswers501ForOneAndTakesTheDefault()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Storage:Provider"] = "Sqlite" });
        using var client = app.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        using var refused = await client.PostAsync("/queues/default/messages?priority=9", Json("{}"), ct);
        using var plain = await client.PostAsync("/queues/default/messages?priority=5", Json("{}"), ct);

        Assert.Equal(HttpStatusCode.NotImplemented, refused.StatusCode);
        Assert.Contains("Priorities", (await refused.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, plain.StatusCode);
    }

    private static async Task<string> PostAsync(HttpClient client, string route, string body)
    {
        using var response = await client.PostAsync(route, Json(body), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
    }

    private static Task<JsonElement> MessageAsync(HttpClient client, string id) =>
        client.GetFromJsonAsync<JsonElement>($"/queues/default/messages/{id}", TestContext.Current.CancellationToken);
}
