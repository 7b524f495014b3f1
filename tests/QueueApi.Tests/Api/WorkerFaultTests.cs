using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>Fault injection answers exactly what it did: which fault, where to watch, and why it refused.</summary>
public sealed class WorkerFaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // A hung worker ignores its token: short stop deadlines let the factory's dispose give up on it quickly.
    private static readonly Dictionary<string, string?> ShortStop = new()
    {
        ["QueueApi:Shutdown:DrainTimeout"] = "00:00:01",
        ["QueueApi:Shutdown:CancelGrace"] = "00:00:01",
        ["QueueApi:Shutdown:JoinTimeout"] = "00:00:01",
    };

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    [Fact]
    public async Task HangAnswers202NamingTheHangFaultAndTheWorkerToWatch()
    {
        await using var app = new QueueApiApplication(ShortStop, holdHostOnStop: true);
        using var client = app.CreateClient();

        using var hung = await client.PostAsync("/workers/demo-1/hang", null, Ct);

        Assert.Equal(HttpStatusCode.Accepted, hung.StatusCode);
        Assert.Equal("/workers/demo-1", hung.Headers.Location?.OriginalString);
        var ack = await hung.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("demo-1", ack.GetProperty("workerId").GetString());
        Assert.Equal("hang", ack.GetProperty("fault").GetString());
        Assert.Equal("/workers/demo-1", ack.GetProperty("worker").GetString());
        Assert.True(ack.GetProperty("requestedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        await Eventually.WaitAsync(
            async () => await client.GetStringAsync("/workers/demo-1", Ct),
            w => w.Contains("\"state\":\"busy\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the worker to start hanging");
    }

    [Theory]
    [InlineData("crash")]
    [InlineData("hang")]
    public async Task AFaultForAWorkerThatDoesNotExistAnswers404NamingItAndHarmsNoOne(string fault)
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();

        using var response = await client.PostAsync($"/workers/nope-9/{fault}", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("Unknown worker", problem.GetProperty("title").GetString());
        Assert.Equal("There is no worker 'nope-9'. GET /workers lists them.", problem.GetProperty("detail").GetString());
        Assert.True(app.Services.GetRequiredService<QueueEngine>().IsLive(out _));
    }

    [Fact]
    public async Task HangWhenChaosIsOffAnswers404SayingHowToTurnItOnAndTheWorkerKeepsWorking()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Chaos:Enabled"] = "false" });
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/workers/default-1/hang", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("Fault injection is off", problem.GetProperty("title").GetString());
        Assert.Contains("QueueApi:Chaos:Enabled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var worker = await client.GetFromJsonAsync<JsonElement>("/workers/default-1", Ct);
        Assert.NotEqual("busy", worker.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("crash")]
    [InlineData("hang")]
    public async Task AFaultForAWorkerThatHasStoppedAnswers409SayingSo(string fault)
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();
        using (var stop = await client.PostAsync("/shutdown", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        }

        await app.Services.GetRequiredService<QueueEngine>().Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var response = await client.PostAsync($"/workers/default-1/{fault}", null, Ct);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("Worker not running", problem.GetProperty("title").GetString());
        Assert.Equal("Worker 'default-1' has already stopped.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AWorkerIsServedByItsIdAndAnUnknownIdIsAProblemNamingIt()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var worker = await client.GetFromJsonAsync<JsonElement>("/workers/demo-2", Ct);
        using var missing = await client.GetAsync("/workers/demo-3", Ct);

        Assert.Equal("demo-2", worker.GetProperty("id").GetString());
        Assert.Equal("demo", worker.GetProperty("queue").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("'demo-3'", (await ProblemAsync(missing)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
