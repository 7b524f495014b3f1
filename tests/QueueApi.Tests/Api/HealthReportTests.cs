using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>The full health report when something is wrong: 503, uncached, and the failing check named.</summary>
public sealed class HealthReportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OnceAStopIsRequestedTheReportIs503NamingTheCheckThatFailedAndTheProbesSayWhy()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();
        using (var stop = await client.PostAsync("/shutdown", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        }

        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        using var full = await client.GetAsync("/health", Ct);
        using var ready = await client.GetAsync("/health/ready", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        Assert.Equal("application/json", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", full.Content.Headers.ContentType?.CharSet);
        Assert.True(full.Headers.CacheControl?.NoStore);
        var report = await full.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Unhealthy", report.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("accepting").GetProperty("status").GetString());
        Assert.NotEqual("", report.GetProperty("checks").GetProperty("accepting").GetProperty("description").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("text/plain", ready.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", ready.Content.Headers.ContentType?.CharSet);
        Assert.True(ready.Headers.CacheControl?.NoCache);
        var lines = (await ready.Content.ReadAsStringAsync(Ct)).Split('\n');
        Assert.Equal("Unhealthy", lines[0]);
        Assert.Equal("", lines[^1]);
        Assert.Contains(lines, l => l.StartsWith("accepting: Unhealthy (", StringComparison.Ordinal) && l.EndsWith(')'));
        Assert.Contains(lines, l => l.StartsWith("storage: Healthy (", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("workers: ", StringComparison.Ordinal));
    }
}
