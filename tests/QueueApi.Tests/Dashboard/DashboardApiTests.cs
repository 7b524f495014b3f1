using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Dashboard;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Dashboard;

/// <summary>The dashboard's routes in memory: the page and its headers, the snapshot, the freeze routes, the OpenAPI document.</summary>
public sealed partial class DashboardApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task RootRedirectsToTheDashboard()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });

        using var response = await client.GetAsync("/", Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task DashboardPageComesWithAStrictContentSecurityPolicyAndNoInlineScriptOrStyle()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/dashboard", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        // Scripts only from files, no style attributes, no event-handler attributes.
        Assert.DoesNotMatch(InlineScript(), html);
        Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(HandlerAttribute(), html);
        Assert.Empty(ExternalAddress().Matches(html));
    }

    [Theory]
    [InlineData("dashboard.js", "text/javascript")]
    [InlineData("render.js", "text/javascript")]
    [InlineData("dashboard.css", "text/css")]
    [InlineData("icon.svg", "image/svg+xml")]
    public async Task DashboardFilesAreServedByTheAppWithTheirTypeAndNoAddressElsewhere(string file, string type)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"/dashboard/assets/{file}", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        // No CDN, no font service: the only absolute address allowed is the SVG namespace, which is never fetched.
        Assert.DoesNotContain(ExternalAddress().Matches(text), m => !m.Value.StartsWith("http://www.w3.org/2000/svg", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnknownDashboardFileIs404()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/dashboard/assets/nope.js", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DashboardFilesAnswer304WhileTheyAreUnchanged()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using var first = await client.GetAsync("/dashboard/assets/dashboard.css", Ct);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/assets/dashboard.css");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task SnapshotShowsEveryQueueAndWorkerAndSaysWhetherTheAdminKeyIsNeeded()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var snapshot = await client.GetFromJsonAsync<JsonElement>("/dashboard/snapshot", Ct);

        Assert.Equal("running", snapshot.GetProperty("engine").GetProperty("state").GetString());
        Assert.False(snapshot.GetProperty("adminKeyRequired").GetBoolean());
        Assert.Equal(["default", "demo"], snapshot.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("queue").GetProperty("name").GetString()));
        Assert.Equal(4, snapshot.GetProperty("workers").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, snapshot.GetProperty("shutdown").ValueKind);
        Assert.Equal(JsonValueKind.Null, snapshot.GetProperty("replicas").ValueKind);
        Assert.Equal(1000, snapshot.GetProperty("history").GetProperty("stepMs").GetInt32());
    }

    [Fact]
    public async Task SnapshotOutsideDevelopmentSaysTheAdminKeyIsNeeded()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:AdminApiKey"] = "k" }, environment: "Production");
        using var client = app.CreateClient();

        var snapshot = await client.GetFromJsonAsync<JsonElement>("/dashboard/snapshot", Ct);

        Assert.True(snapshot.GetProperty("adminKeyRequired").GetBoolean());
    }

    [Fact]
    public async Task ThroughputHistoryCountsEveryProcessedMessageOnce()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var sampler = app.Services.GetRequiredService<ThroughputSampler>();
        using var posted = await client.PostAsync("/queues/default/messages/batch", Json("[1, 2, 3, 4, 5, 6, 7]"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/queues/default", Ct)).GetProperty("counts").GetProperty("succeeded").GetInt64(),
            n => n == 7, TimeSpan.FromSeconds(10), "seven successes");

        // Whatever the timer sampled meanwhile, one more sample closes the books: the seconds add up to seven.
        sampler.Sample();
        var history = sampler.History();

        Assert.Equal(7, history.Succeeded.Sum());
        Assert.Equal(0, history.Failed.Sum());
        Assert.True(history.Succeeded.Count <= ThroughputSampler.Seconds);
    }

    [Fact]
    public async Task AMessageSeenFailingIsListedWithItsErrorAndPayloadAsText()
    {
        // A long backoff keeps the failed message in its worker's hands, retrying, where the sampler sees it. A
        // short drain: the stop at dispose would otherwise wait its whole 20 s for that retry (a test slow enough
        // to overrun Stryker's limit under instrumentation, and then run against every mutant).
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            ["QueueApi:Queues:demo:BaseDelay"] = "00:00:30",
            ["QueueApi:Queues:demo:MaxDelay"] = "00:00:30",
            ["QueueApi:Shutdown:DrainTimeout"] = "00:00:01",
        });
        using var client = app.CreateClient();
        using var posted = await client.PostAsync("/queues/demo/messages", Json("""{"fail": "<b>bold</b>"}"""), Ct);
        var id = (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>($"/queues/demo/messages/{id}", Ct)).GetProperty("status").GetString(),
            s => s == "retrying", TimeSpan.FromSeconds(10), "the message to wait for its second attempt");

        app.Services.GetRequiredService<ThroughputSampler>().Sample();
        var snapshot = await client.GetFromJsonAsync<JsonElement>("/dashboard/snapshot", Ct);

        var failure = snapshot.GetProperty("failures").EnumerateArray().Single(f => f.GetProperty("id").GetString() == id);
        Assert.Equal("retrying", failure.GetProperty("status").GetString());
        Assert.Contains("<b>bold</b>", failure.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("""{"fail": "<b>bold</b>"}""", failure.GetProperty("payload").GetString());
        Assert.False(failure.GetProperty("payloadTruncated").GetBoolean());
    }

    [Fact]
    public async Task AWorkerBusyPastItsTimeLimitIsMarkedOverdueBeforeItCountsAsStuck()
    {
        // A one-second limit and a long grace: the hung worker is overdue for a minute before the supervisor calls it stuck.
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            ["QueueApi:Queues:demo:AttemptTimeout"] = "00:00:01",
            ["QueueApi:Queues:demo:StuckGrace"] = "00:01:00",
            ["QueueApi:Shutdown:DrainTimeout"] = "00:00:01",
        });
        using var client = app.CreateClient();
        using var hang = await client.PostAsync("/workers/demo-1/hang", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, hang.StatusCode);

        var worker = await Eventually.WaitAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/dashboard/snapshot", Ct)).GetProperty("workers").EnumerateArray()
                .Single(w => w.GetProperty("worker").GetProperty("id").GetString() == "demo-1"),
            w => w.GetProperty("overdue").GetBoolean(), TimeSpan.FromSeconds(15), "demo-1 to be overdue");

        Assert.Equal("busy", worker.GetProperty("worker").GetProperty("state").GetString());
        Assert.True(worker.GetProperty("busyForMs").GetInt64() >= 1000); // whole milliseconds of a time just past one second
        var others = (await client.GetFromJsonAsync<JsonElement>("/dashboard/snapshot", Ct)).GetProperty("workers").EnumerateArray()
            .Where(w => w.GetProperty("worker").GetProperty("id").GetString() != "demo-1");
        Assert.All(others, w => Assert.False(w.GetProperty("overdue").GetBoolean()));
    }

    [Fact]
    public async Task PauseAllPausesEveryQueueAndResumeAllResumesThem()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var paused = await client.PostAsync("/queues/pause-all", null, Ct);
        var afterPause = await client.GetFromJsonAsync<JsonElement>("/queues", Ct);
        using var resumed = await client.PostAsync("/queues/resume-all", null, Ct);
        var afterResume = await client.GetFromJsonAsync<JsonElement>("/queues", Ct);

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.All(afterPause.EnumerateArray(), q => Assert.True(q.GetProperty("paused").GetBoolean()));
        Assert.All((await paused.Content.ReadFromJsonAsync<JsonElement>(Ct)).EnumerateArray(), q => Assert.True(q.GetProperty("paused").GetBoolean()));
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.All(afterResume.EnumerateArray(), q => Assert.False(q.GetProperty("paused").GetBoolean()));
    }

    [Fact]
    public async Task PauseAllOutsideDevelopmentNeedsTheAdminKey()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:AdminApiKey"] = "the-key" }, environment: "Production");
        using var client = app.CreateClient();

        using var without = await client.PostAsync("/queues/pause-all", null, Ct);
        var stillRunning = await client.GetFromJsonAsync<JsonElement>("/queues", Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/queues/pause-all") { Headers = { { "X-Api-Key", "the-key" } } };
        using var with = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.All(stillRunning.EnumerateArray(), q => Assert.False(q.GetProperty("paused").GetBoolean()));
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocumentListsTheEventStreamAndTheFreezeRoutes()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var paths = (await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct)).GetProperty("paths");

        var stream = paths.GetProperty("/dashboard/events").GetProperty("get");
        Assert.True(stream.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/event-stream", out _));
        Assert.Equal("Dashboard", stream.GetProperty("tags")[0].GetString());
        Assert.True(paths.GetProperty("/dashboard/snapshot").TryGetProperty("get", out _));
        foreach (var route in new[] { "/queues/pause-all", "/queues/resume-all" })
        {
            var post = paths.GetProperty(route).GetProperty("post");
            Assert.True(post.GetProperty("security")[0].TryGetProperty("AdminApiKey", out _), $"{route} names the admin key");
        }
    }

    [GeneratedRegex("<script(?![^>]*\\bsrc=)", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("\\son[a-z]+\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex HandlerAttribute();

    [GeneratedRegex("(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}[^\\s\"')]*", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalAddress();
}
