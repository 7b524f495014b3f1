using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Dashboard;

/// <summary>The dashboard's server-sent events: a snapshot a second, and an end when the service stops.</summary>
public sealed class DashboardEventStreamTests
{
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EventStreamSendsASnapshotAboutOnceASecond()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using var timeout = Bounded();

        using var response = await client.GetAsync("/dashboard/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var events = await ReadAsync(response, 3, timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.All(events, e => Assert.Equal("snapshot", e.EventType));
        var at = events.Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.All(events, e => Assert.Equal(2, JsonDocument.Parse(e.Data).RootElement.GetProperty("queues").GetArrayLength()));
        // Paced by a one-second timer: never faster (a busy machine may make it slower, which the timeout bounds).
        Assert.True(at[2] - at[0] >= TimeSpan.FromSeconds(1.5), $"three events in {at[2] - at[0]}");
    }

    [Fact]
    public async Task EventStreamWithACountEndsAfterThatManyEvents()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using var timeout = Bounded();

        using var response = await client.GetAsync("/dashboard/events?count=2", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var events = await ReadAsync(response, int.MaxValue, timeout.Token);

        Assert.Equal(2, events.Count);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("86401")]
    public async Task EventStreamWithAnInvalidCountIs400(string count)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"/dashboard/events?count={count}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task WhenTheEngineStopsTheStreamSendsAStoppingEventWithTheReportAndEnds()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();
        using var timeout = Bounded();
        using var response = await client.GetAsync("/dashboard/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        await using var events = SseParser.Create(stream).EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal("snapshot", events.Current.EventType);

        using var stop = await client.PostAsync("/shutdown", new StringContent("""{"mode": "drain"}""", Encoding.UTF8, "application/json"), Ct);
        var rest = new List<SseItem<string>>();
        while (await events.MoveNextAsync())
        {
            rest.Add(events.Current);
        }

        Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        var last = rest[^1];
        Assert.Equal("stopping", last.EventType);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(last.Data).RootElement.GetProperty("shutdown").ValueKind);
        Assert.All(rest[..^1], e => Assert.Equal("snapshot", e.EventType));
        using var again = await client.GetAsync("/dashboard/events", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
    }

    [Fact]
    public async Task TheStreamOfARealServiceEndsWhenItShutsDownAndTheProcessExits0()
    {
        await using var service = await ServiceProcess.StartAsync();
        using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var timeout = Bounded();
        using var response = await client.GetAsync("/dashboard/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        await using var events = SseParser.Create(stream).EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await events.MoveNextAsync());

        using var stop = await service.Client.PostAsync("/shutdown", null, Ct);
        string? last = null;
        while (await events.MoveNextAsync())
        {
            last = events.Current.EventType;
        }

        Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        Assert.Equal("stopping", last);
        Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Every read of a stream is bounded: the test fails instead of hanging.</summary>
    private static CancellationTokenSource Bounded()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(StreamTimeout);
        return cts;
    }

    private static async Task<List<SseItem<string>>> ReadAsync(HttpResponseMessage response, int most, CancellationToken token)
    {
        var events = new List<SseItem<string>>();
        await using var stream = await response.Content.ReadAsStreamAsync(token);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(token))
        {
            events.Add(item);
            if (events.Count == most)
            {
                break;
            }
        }

        return events;
    }
}
