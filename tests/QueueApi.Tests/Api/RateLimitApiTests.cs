using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class RateLimitApiTests
{
    [Fact]
    public async Task ARateLimitedQueueShowsItsLimitAndBucketInTheQueueViewAndInMetrics()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            // One permit per 1,000 s: after the burst of 1, the next message waits for the whole test.
            ["QueueApi:Queues:slow:Workers"] = "1",
            ["QueueApi:Queues:slow:Handler"] = "log",
            ["QueueApi:Queues:slow:RateLimit:PermitsPerSecond"] = "0.001",
            ["QueueApi:Queues:slow:RateLimit:Burst"] = "1",
            ["QueueApi:Shutdown:DefaultMode"] = "Immediate",
        });
        using var client = app.CreateClient();

        for (var i = 0; i < 2; i++)
        {
            using var posted = await client.PostAsync("/queues/slow/messages", new StringContent("{}", Encoding.UTF8, "application/json"), ct);
            posted.EnsureSuccessStatusCode();
        }

        var view = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>("/queues/slow", ct),
            q => q.GetProperty("rateLimit").GetProperty("waitingWorkers").GetInt64() == 1,
            TimeSpan.FromSeconds(10),
            "the worker to wait for a permit");
        var limit = view.GetProperty("rateLimit");
        Assert.Equal(0.001, limit.GetProperty("permitsPerSecond").GetDouble());
        Assert.Equal(1, limit.GetProperty("burst").GetInt32());
        Assert.Equal(0, limit.GetProperty("availablePermits").GetInt64());
        Assert.Equal(1, limit.GetProperty("delayedStarts").GetInt64());
        Assert.Equal(1, view.GetProperty("counts").GetProperty("succeeded").GetInt64());

        var metrics = await client.GetStringAsync("/metrics", ct);
        Assert.Contains("queueapi_ratelimit_waiting{otel_scope_name=\"QueueApi\",messaging_destination_name=\"slow\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("queueapi_ratelimit_permits{otel_scope_name=\"QueueApi\",messaging_destination_name=\"slow\"} 0", metrics, StringComparison.Ordinal);

        var unlimited = await client.GetFromJsonAsync<JsonElement>("/queues/default", ct);
        Assert.Equal(JsonValueKind.Null, unlimited.GetProperty("rateLimit").ValueKind);
    }
}
