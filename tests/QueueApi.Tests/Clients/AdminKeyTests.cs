using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>Outside Development, actions that change the service need X-Api-Key; reads and enqueue stay open.</summary>
public sealed class AdminKeyTests
{
    private const string Key = "test-admin-key-0123456789";

    public static TheoryData<string, string> AdminActions => new()
    {
        { "POST", "/queues/demo/pause" },
        { "POST", "/queues/demo/resume" },
        { "POST", "/queues/demo/dead-letters/00000000000000000000/requeue" },
        { "DELETE", "/queues/demo/dead-letters/00000000000000000000" },
        { "DELETE", "/queues/demo/messages/00000000000000000000" },
        { "POST", "/workers/default-1/crash" },
        { "POST", "/workers/default-1/hang" },
        { "POST", "/shutdown" },
    };

    [Theory]
    [MemberData(nameof(AdminActions))]
    public async Task AdminActionWithoutTheHeaderReturns401ProblemThatNamesTheHeader(string method, string path)
    {
        await using var app = Production(Key);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Contains("X-Api-Key", await DetailAsync(response), StringComparison.Ordinal);
        await AssertStillRunningAsync(client);
    }

    [Theory]
    [MemberData(nameof(AdminActions))]
    public async Task AdminActionWithAWrongKeyReturns403(string method, string path)
    {
        await using var app = Production(Key);
        using var client = app.CreateClient();

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("X-Api-Key", Key + "x");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("does not match", await DetailAsync(response), StringComparison.Ordinal);
        await AssertStillRunningAsync(client);
    }

    [Fact]
    public async Task AdminActionsWithTheKeyAreCarriedOut()
    {
        var ct = TestContext.Current.CancellationToken;
        // The stop is recorded, not obeyed: an in-memory host that stops at once can abort the 202 on its way out
        // (a real Kestrel finishes it; the process tests prove that).
        await using var app = Production(Key, holdHostOnStop: true);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);

        using var paused = await client.PostAsync("/queues/demo/pause", null, ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True((await paused.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("paused").GetBoolean());

        using var resumed = await client.PostAsync("/queues/demo/resume", null, ct);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.False((await resumed.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("paused").GetBoolean());

        // Past the key, the action's own answer: an unknown dead letter, and chaos off outside Development.
        using var delete = await client.DeleteAsync("/queues/demo/dead-letters/00000000000000000000", ct);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        using var crash = await client.PostAsync("/workers/default-1/crash", null, ct);
        Assert.Equal(HttpStatusCode.NotFound, crash.StatusCode);
        Assert.Contains("QueueApi:Chaos:Enabled", await DetailAsync(crash), StringComparison.Ordinal);

        using var shutdown = await client.PostAsync("/shutdown", null, ct);
        Assert.Equal(HttpStatusCode.Accepted, shutdown.StatusCode);
        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task WithNoKeyConfiguredAdminActionsAnswerWithAProblemThatSaysHowToSetOne()
    {
        await using var app = Production(key: null);
        using var client = app.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/shutdown");
        request.Headers.Add("X-Api-Key", "anything");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = await DetailAsync(response);
        Assert.Contains("QueueApi:AdminApiKey", detail, StringComparison.Ordinal);
        Assert.Contains("QueueApi__AdminApiKey", detail, StringComparison.Ordinal);
        await AssertStillRunningAsync(client);
    }

    [Fact]
    public async Task ReadsAndEnqueueStayOpenWithoutAKey()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = Production(Key);
        using var client = app.CreateClient();

        using var enqueued = await client.PostAsync("/queues/default/messages", new StringContent("""{"open": true}""", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.Accepted, enqueued.StatusCode);
        using var batch = await client.PostAsync("/queues/default/messages/batch", new StringContent("[1, 2]", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.Accepted, batch.StatusCode);
        var id = (await enqueued.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString();

        foreach (var path in new[] { $"/queues/default/messages/{id}", "/queues", "/queues/default", "/queues/demo/dead-letters", "/workers", "/workers/default-1", "/health", "/health/live", "/health/ready", "/metrics", "/openapi/v1.json" })
        {
            using var response = await client.GetAsync(path, ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task InDevelopmentAdminActionsNeedNoKey()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:AdminApiKey"] = Key });
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/demo/pause", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static QueueApiApplication Production(string? key, bool holdHostOnStop = false) =>
        new(new Dictionary<string, string?> { ["QueueApi:AdminApiKey"] = key }, environment: "Production", holdHostOnStop);

    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("detail").GetString() ?? "";

    private static async Task AssertStillRunningAsync(HttpClient client)
    {
        using var ready = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var queue = await client.GetFromJsonAsync<JsonDocument>("/queues/demo", TestContext.Current.CancellationToken);
        Assert.False(queue!.RootElement.GetProperty("paused").GetBoolean());
    }
}
