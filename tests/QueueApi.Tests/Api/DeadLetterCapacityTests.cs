using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>With no room for dead letters (<c>DeadLetterCapacity = 0</c>), an exhausted message ends failed, and stays readable.</summary>
public sealed class DeadLetterCapacityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExhaustedMessageEndsFailedWhenDeadLetterCapacityIsZero()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Queues:demo:DeadLetterCapacity"] = "0" });
        using var client = app.CreateClient();
        using var posted = await client.PostAsync("/queues/demo/messages", new StringContent("""{"fail": "always"}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        var counts = await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct)).GetProperty("counts"),
            c => c.GetProperty("failed").GetInt64() + c.GetProperty("deadLettered").GetInt64() + c.GetProperty("dropped").GetInt64() == 1,
            TimeSpan.FromSeconds(10), "the message to finish");

        Assert.Equal(1, counts.GetProperty("failed").GetInt64());
        Assert.Equal(0, counts.GetProperty("deadLettered").GetInt64());
        Assert.True(counts.GetProperty("balanced").GetBoolean());
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters", Ct)).EnumerateArray());
        var message = await client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct);
        Assert.Equal("failed", message.GetProperty("status").GetString());
        Assert.Equal(3, message.GetProperty("attempts").GetInt32());
        Assert.Contains("always", message.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExhaustedMessageIsDeadLetteredWhenThereIsRoom()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Queues:demo:DeadLetterCapacity"] = "1" });
        using var client = app.CreateClient();
        using var posted = await client.PostAsync("/queues/demo/messages", new StringContent("""{"fail": "always"}""", Encoding.UTF8, "application/json"), Ct);

        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(posted.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() is "deadLettered" or "failed",
            TimeSpan.FromSeconds(10), "the message to finish");

        Assert.Equal("deadLettered", message.GetProperty("status").GetString());
        var counts = (await client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct)).GetProperty("counts");
        Assert.Equal(0, counts.GetProperty("failed").GetInt64());
        Assert.Equal(1, counts.GetProperty("deadLettered").GetInt64());
    }
}
