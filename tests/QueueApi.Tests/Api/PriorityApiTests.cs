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

    /// <summary>SQLite, the default store: the priority is stored with the row, shown, and orders the claims.</summary>
    [Fact]
    public async Task OnTheDefaultSqliteStoreAPriorityIsKeptShownAndRunsFirst()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Queues:default:Workers"] = "1" });
        using var client = app.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        (await client.PostAsync("/queues/default/pause", null, ct)).EnsureSuccessStatusCode();

        var plain = await PostAsync(client, "/queues/default/messages", "{}");
        var urgent = await PostAsync(client, "/queues/default/messages?priority=9", "{}");
        var low = await PostAsync(client, "/queues/default/messages?priority=0", "{}");

        var view = await client.GetFromJsonAsync<JsonElement>("/queues/default", ct);
        var lanes = view.GetProperty("priorities").EnumerateArray().Select(l => (l.GetProperty("priority").GetInt32(), l.GetProperty("queued").GetInt32())).ToList();
        Assert.Equal([(9, 1), (5, 1), (0, 1)], lanes);
        Assert.Equal(9, (await MessageAsync(client, urgent)).GetProperty("priority").GetInt32());
        Assert.Equal(0, (await MessageAsync(client, low)).GetProperty("priority").GetInt32());
        Assert.Equal(1L, await StoredPriorityCountAsync(app.DatabasePath, 9));

        (await client.PostAsync("/queues/default/resume", null, ct)).EnsureSuccessStatusCode();
        var started = new List<(DateTimeOffset At, string Id)>();
        foreach (var id in new[] { urgent, plain, low })
        {
            var m = await Eventually.WaitAsync(() => MessageAsync(client, id), m => m.GetProperty("status").GetString() == "succeeded", TimeSpan.FromSeconds(10), $"message {id} to succeed");
            started.Add((m.GetProperty("startedAt").GetDateTimeOffset(), id));
        }

        Assert.Equal([urgent, plain, low], started.OrderBy(s => s.At).Select(s => s.Id));
    }

    /// <summary>Reads the file beside the running service (WAL lets a reader in); the row holds the priority.</summary>
    private static async Task<long> StoredPriorityCountAsync(string path, int priority)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM messages WHERE priority = $p";
        command.Parameters.AddWithValue("$p", priority);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
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
