using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// POST /shutdown reads a body whenever one is sent (with a length, or chunked), within its own small limit,
/// and a refused request stops nothing.
/// </summary>
public sealed class ShutdownRequestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Without the redirect handler, which buffers bodies and so would give a chunked one a Content-Length.
    private static HttpClient Client(QueueApiApplication app) => app.CreateClient(new() { AllowAutoRedirect = false });

    private static async Task AssertStillRunningAsync(QueueApiApplication app, HttpClient client)
    {
        Assert.False(app.Lifetime.StopRequested.IsCompleted, "a refused shutdown request asked the host to stop");
        Assert.True(app.Services.GetRequiredService<QueueEngine>().IsReady(out var why), why);
        using var ready = await client.GetAsync("/health/ready", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static async Task AssertStoppingAsync(QueueApiApplication app, HttpResponseMessage response, string mode)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(mode, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("mode").GetString());
        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(5), Ct);
    }

    [Fact]
    public async Task AChunkedBodyIsReadAndCheckedLikeOneWithALength()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = Client(app);

        using var response = await client.PostAsync("/shutdown", new ChunkedContent("""{"mode": "later"}"""u8.ToArray()), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Invalid shutdown request", problem.GetProperty("title").GetString());
        Assert.Contains("\"later\"", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertStillRunningAsync(app, client);
    }

    [Fact]
    public async Task AChunkedBodyNamingAModeIsObeyed()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = Client(app);

        using var response = await client.PostAsync("/shutdown", new ChunkedContent("""{"mode": "immediate"}"""u8.ToArray()), Ct);

        await AssertStoppingAsync(app, response, "immediate");
    }

    [Fact]
    public async Task AnEmptyBodyWithAJsonTypeMeansTheDefaultMode()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Shutdown:DefaultMode"] = "Immediate" }, holdHostOnStop: true);
        using var client = Client(app);
        var empty = new ByteArrayContent([]);
        empty.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/shutdown", empty, Ct);

        await AssertStoppingAsync(app, response, "immediate");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABodyOverFourKilobytesAnswers413AndStopsNothing(bool chunked)
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = Client(app);
        // Valid JSON a byte over the limit: only the size can refuse it.
        var body = Encoding.UTF8.GetBytes($$"""{"mode": "drain"{{new string(' ', 4097 - 17)}}}""");
        Assert.Equal(4097, body.Length);
        HttpContent content = chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/shutdown", content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("4096", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertStillRunningAsync(app, client);
    }

    [Fact]
    public async Task ABodyOfExactlyFourKilobytesIsRead()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = Client(app);
        var body = Encoding.UTF8.GetBytes($$"""{"mode": "immediate"{{new string(' ', 4096 - 21)}}}""");
        Assert.Equal(4096, body.Length);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/shutdown", content, Ct);

        await AssertStoppingAsync(app, response, "immediate");
    }

    [Fact]
    public async Task AnExplicitNullModeMeansTheDefaultMode()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Shutdown:DefaultMode"] = "Immediate" }, holdHostOnStop: true);
        using var client = Client(app);

        using var response = await client.PostAsync("/shutdown", new StringContent("""{"mode": null}""", Encoding.UTF8, "application/json"), Ct);

        await AssertStoppingAsync(app, response, "immediate");
    }

    [Fact]
    public async Task ANumberForTheWholeBodyIsRefusedNamingWhatItIs()
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = Client(app);

        using var number = await client.PostAsync("/shutdown", new StringContent("42", Encoding.UTF8, "application/json"), Ct);
        using var boolean = await client.PostAsync("/shutdown", new StringContent("true", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, number.StatusCode);
        Assert.StartsWith("The body must be a JSON object, not a number.", (await number.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("The body must be a JSON object, not true.", (await boolean.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertStillRunningAsync(app, client);
    }

    [Fact]
    public async Task TheReportBeforeAnyStopIsAProblemSayingHowOneBegins()
    {
        await using var app = new QueueApiApplication();
        using var client = Client(app);

        using var response = await client.GetAsync("/shutdown/report", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("No shutdown yet", problem.GetProperty("title").GetString());
        Assert.Contains("POST /shutdown", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
