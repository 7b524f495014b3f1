using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;
using QueueApi.Webhooks;

namespace QueueApi.Tests.Webhooks;

/// <summary>The built-in webhook handler against a real Kestrel receiver on 127.0.0.1.</summary>
public sealed class WebhookHandlerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private const string Secret = "whsec_test_secret";

    private static QueueApiApplication App(WebhookReceiver receiver, string timeout = "00:00:05", int maxAttempts = 3) => new(new Dictionary<string, string?>
    {
        ["QueueApi:Queues:hooks:Workers"] = "1",
        ["QueueApi:Queues:hooks:Handler"] = "webhook",
        ["QueueApi:Queues:hooks:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["QueueApi:Queues:hooks:BaseDelay"] = "00:00:00.010",
        ["QueueApi:Queues:hooks:MaxDelay"] = "00:00:00.050",
        ["QueueApi:Queues:hooks:Webhook:Url"] = receiver.Url,
        ["QueueApi:Queues:hooks:Webhook:Timeout"] = timeout,
        ["QueueApi:Queues:hooks:Webhook:Secret"] = Secret,
        ["QueueApi:Queues:hooks:Webhook:Headers:Authorization"] = "Bearer downstream-token",
    });

    private static async Task<string> PostAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/queues/hooks/messages", new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
    }

    private static Task<JsonElement> FinishedAsync(HttpClient client, string id) => Eventually.WaitAsync(
        () => client.GetFromJsonAsync<JsonElement>($"/queues/hooks/messages/{id}", TestContext.Current.CancellationToken),
        m => m.GetProperty("status").GetString() is "succeeded" or "failed" or "deadLettered",
        Wait,
        $"message {id} to finish");

    [Fact]
    public async Task AWebhookThatAnswers200GetsThePayloadSignedWithItsHeadersAndTheMessageSucceeds()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = App(receiver);
        using var client = app.CreateClient();
        const string payload = """{"order": 42, "note": "héllo"}""";

        var id = await PostAsync(client, payload);
        var got = await receiver.NextAsync(Wait);
        var message = await FinishedAsync(client, id);

        Assert.Equal("succeeded", message.GetProperty("status").GetString());
        Assert.Equal(payload, Encoding.UTF8.GetString(got.Body));
        Assert.Equal("application/json", got.Header("Content-Type"));
        Assert.Equal("Bearer downstream-token", got.Header("Authorization"));
        Assert.Equal(id, got.Header("QueueApi-Message-Id"));
        Assert.Equal("1", got.Header("QueueApi-Attempt"));
        Assert.True(WebhookSignature.Verify(Secret, got.Header(WebhookSignature.HeaderName), got.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
            $"signature '{got.Header(WebhookSignature.HeaderName)}' did not verify");
        Assert.False(WebhookSignature.Verify("another secret", got.Header(WebhookSignature.HeaderName), got.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify(Secret, got.Header(WebhookSignature.HeaderName), Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A503WithRetryAfterIsRetriedNoSoonerThanTheReceiverAsked()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.ThenStatus(503, retryAfter: "1");
        await using var app = App(receiver);
        using var client = app.CreateClient();

        var id = await PostAsync(client, """{"n": 1}""");
        var first = await receiver.NextAsync(Wait);
        var second = await receiver.NextAsync(Wait);
        var message = await FinishedAsync(client, id);

        Assert.Equal("succeeded", message.GetProperty("status").GetString());
        Assert.Equal(2, message.GetProperty("attempts").GetInt32());
        Assert.Equal("2", second.Header("QueueApi-Attempt"));
        // The queue's own backoff is 10-50 ms: a gap of a second is the Retry-After honoured.
        Assert.True(Stopwatch.GetElapsedTime(first.Timestamp, second.Timestamp) >= TimeSpan.FromSeconds(0.95),
            $"retried after {Stopwatch.GetElapsedTime(first.Timestamp, second.Timestamp)}");
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(302)]
    public async Task AClientErrorOrARedirectFailsTheMessageAtOnceWithoutARetry(int status)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Then(http =>
        {
            http.Response.StatusCode = status;
            if (status == 302)
            {
                http.Response.Headers.Location = "/elsewhere";
            }

            return Task.CompletedTask;
        });
        await using var app = App(receiver);
        using var client = app.CreateClient();

        var id = await PostAsync(client, """{"n": 1}""");
        await receiver.NextAsync(Wait);
        var message = await FinishedAsync(client, id);

        Assert.Equal("failed", message.GetProperty("status").GetString());
        Assert.Equal(1, message.GetProperty("attempts").GetInt32());
        Assert.Contains($"answered {status}", message.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReceiverSlowerThanTheTimeoutIsCutOffAndRetried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // The first request never gets an answer until the client gives up.
        receiver.Then(http => Task.Delay(Timeout.Infinite, http.RequestAborted));
        // Long enough that the second, answered request never runs out of it on a loaded machine.
        await using var app = App(receiver, timeout: "00:00:02", maxAttempts: 2);
        using var client = app.CreateClient();

        var id = await PostAsync(client, """{"n": 1}""");
        var first = await receiver.NextAsync(Wait);
        var second = await receiver.NextAsync(Wait);
        var message = await FinishedAsync(client, id);

        Assert.Equal("succeeded", message.GetProperty("status").GetString());
        Assert.Equal(2, message.GetProperty("attempts").GetInt32());
        Assert.True(Stopwatch.GetElapsedTime(first.Timestamp, second.Timestamp) >= TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task AReceiverThatKeepsTimingOutLeavesADeadLetterNamingTheTimeout()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Then(http => Task.Delay(Timeout.Infinite, http.RequestAborted));
        await using var app = App(receiver, timeout: "00:00:00.200", maxAttempts: 1);
        using var client = app.CreateClient();

        var id = await PostAsync(client, """{"n": 1}""");
        var message = await FinishedAsync(client, id);

        Assert.Equal("deadLettered", message.GetProperty("status").GetString());
        Assert.Contains("did not answer within 00:00:00.2", message.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
