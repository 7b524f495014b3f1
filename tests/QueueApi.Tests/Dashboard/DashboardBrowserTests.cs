using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Dashboard;

/// <summary>
/// The dashboard in Debian's chromium against the real service on a free port: it renders, updates itself,
/// acts, keeps message text as text, and asks nothing of any other origin.
/// </summary>
public sealed class DashboardBrowserTests
{
    private static readonly LocatorAssertionsToHaveCountOptions Count = new() { Timeout = ChromiumSession.StepTimeoutMs };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task DashboardRendersQueuesAndWorkersAndShowsSlowWorkBusyWithoutAReloadAndNoRequestLeavesItsOrigin()
    {
        ChromiumSession.Require();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await ChromiumSession.StartAsync();
        var page = await browser.NewPageAsync(1280, 800);
        var requests = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);

        await OpenAsync(page, service);
        await Assertions.Expect(page.Locator("#queue-rows tr[data-queue]")).ToHaveCountAsync(2, Count);
        await Assertions.Expect(page.Locator("#worker-rows tr[data-worker]")).ToHaveCountAsync(8, Count);
        await Assertions.Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-mode", "live");
        await page.EvaluateAsync("window.__notReloaded = true");

        // A failing message first, so the screenshot shows a dead letter too; then slow work for every demo worker.
        await EnqueueAsync(service, "demo", """{"fail": "card declined"}""");
        await Assertions.Expect(page.Locator("#dead-rows tr")).ToHaveCountAsync(1, Count);
        for (var i = 0; i < 4; i++)
        {
            await EnqueueAsync(service, "demo", """{"sleepMs": 3000}""");
        }

        await EnqueueAsync(service, "default", """[{"n": 1}, {"n": 2}, {"n": 3}]""", batch: true);
        await Assertions.Expect(page.Locator("#worker-rows tr[data-worker^='demo-'] .badge[data-state='busy']")).ToHaveCountAsync(4, Count);
        await Assertions.Expect(page.Locator("#worker-rows tr[data-worker='demo-1'] td[data-label='Message']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9a-f]{20}$"));
        Assert.True(await page.EvaluateAsync<bool>("window.__notReloaded === true"), "the page was reloaded");

        // The README's picture: the whole page as a 1280x800 window shows it (scrolled, it continues below).
        await page.ScreenshotAsync(new() { Path = ScreenshotPath("dashboard.png"), FullPage = true });
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await page.ScreenshotAsync(new() { Path = ScreenshotPath("dashboard-dark.png") });
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = ScreenshotPath("dashboard-phone.png") });
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390, "the page overflows a phone's width");

        var origin = service.BaseAddress.GetLeftPart(UriPartial.Authority);
        Assert.NotEmpty(requests);
        Assert.All(requests, url => Assert.StartsWith(origin + "/", url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task APayloadHoldingAScriptTagShowsAsTextAndNothingRuns()
    {
        ChromiumSession.Require();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await ChromiumSession.StartAsync();
        var page = await browser.NewPageAsync();
        await OpenAsync(page, service);
        const string evil = "<script>window.__xss = 1</script><img src=x onerror=window.__xss=2>";

        // Written by hand: a serializer would escape the angle brackets, and the point is that they arrive as sent.
        var id = await EnqueueAsync(service, "demo", $$"""{"fail": "{{evil}}"}""");

        var row = page.Locator($"#dead-rows tr[data-message='{id}']");
        await Assertions.Expect(row).ToHaveCountAsync(1, Count);
        Assert.Contains(evil, await row.Locator("td[data-label='Error']").TextContentAsync(), StringComparison.Ordinal);
        Assert.Contains("<script>", await row.Locator("td[data-label='Payload']").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#main script, #main img").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.__xss"));

        // The lookup box shows the same message as text as well.
        await page.Locator("#lookup-id").FillAsync(id);
        await page.Locator("#lookup button[type='submit']").ClickAsync();
        await Assertions.Expect(page.Locator("#lookup-result pre")).ToContainTextAsync("<script>");
        Assert.Equal(0, await page.Locator("#main script, #main img").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.__xss"));
    }

    [Fact]
    public async Task PausingAQueueFromThePageShowsItPausedAndFreezeAllPausesEveryQueue()
    {
        ChromiumSession.Require();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await ChromiumSession.StartAsync();
        var page = await browser.NewPageAsync();
        await OpenAsync(page, service);
        var demo = page.Locator("#queue-rows tr[data-queue='demo']");

        // By keyboard: the toggle is a real button, and the page's updates keep it (and its focus) in place.
        var toggle = demo.Locator("button[data-action='pause']");
        await toggle.FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(demo.Locator("td[data-label='State'] .badge")).ToHaveAttributeAsync("data-state", "paused");
        await Assertions.Expect(demo.Locator("button[data-action='resume']")).ToBeFocusedAsync();
        await Assertions.Expect(demo.Locator("td[data-label='State'] .badge")).ToHaveTextAsync("paused");
        Assert.True(await PausedAsync(service, "demo"));
        Assert.False(await PausedAsync(service, "default"));

        await page.Locator("#freeze").ClickAsync();
        await Assertions.Expect(page.Locator("#queue-rows .badge[data-state='paused']")).ToHaveCountAsync(2, Count);
        Assert.True(await PausedAsync(service, "default"));

        await page.Locator("#unfreeze").ClickAsync();
        await Assertions.Expect(page.Locator("#queue-rows .badge[data-state='running']")).ToHaveCountAsync(2, Count);
        Assert.False(await PausedAsync(service, "demo"));
    }

    [Fact]
    public async Task ADeadLetterCanBeRequeuedFromThePage()
    {
        ChromiumSession.Require();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await ChromiumSession.StartAsync();
        var page = await browser.NewPageAsync();
        await OpenAsync(page, service);
        var id = await EnqueueAsync(service, "demo", """{"fail": "try me again"}""");
        var row = page.Locator($"#dead-rows tr[data-message='{id}']");
        await Assertions.Expect(row).ToHaveCountAsync(1, Count);
        // Paused, the requeued message stays queued instead of failing straight back into the list.
        using var pause = await service.Client.PostAsync("/queues/demo/pause", null, Ct);

        await row.Locator("button[data-action='requeue']").ClickAsync();

        await Assertions.Expect(row).ToHaveCountAsync(0, Count);
        var message = await service.Client.GetFromJsonAsync<JsonElement>($"/queues/demo/messages/{id}", Ct);
        Assert.Equal("queued", message.GetProperty("status").GetString());
        Assert.Equal(0, message.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task InProductionThePageAsksForTheAdminKeyOnceAndKeepsItInSessionStorageOnly()
    {
        ChromiumSession.Require();
        const string key = "dashboard-admin-key-7";
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string> { ["QueueApi__AdminApiKey"] = key }, aspnetEnvironment: "Production");
        await using var browser = await ChromiumSession.StartAsync();
        var page = await browser.NewPageAsync();
        var sentKeys = new List<string?>();
        page.Request += (_, r) => { if (r.Method == "POST") { sentKeys.Add(r.Headers.GetValueOrDefault("x-api-key")); } };
        await OpenAsync(page, service);
        var toggle = page.Locator("#queue-rows tr[data-queue='default'] button[data-action]");

        await toggle.ClickAsync();
        await Assertions.Expect(page.Locator("#key-dialog")).ToBeVisibleAsync();
        await page.Locator("#key-input").FillAsync(key);
        await page.Locator("#key-input").PressAsync("Enter");
        await Assertions.Expect(toggle).ToHaveTextAsync("Resume");
        await toggle.ClickAsync();
        await Assertions.Expect(toggle).ToHaveTextAsync("Pause");

        Assert.Equal([key, key], sentKeys);
        Assert.False(await PausedAsync(service, "default"));
        Assert.Equal(key, await page.EvaluateAsync<string>("sessionStorage.getItem('queueapi.adminKey')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length"));
        Assert.Empty(await page.Context.CookiesAsync());
        Assert.DoesNotContain(key, page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShuttingDownFromThePageAsksFirstThenShowsTheReportAndTheProcessExits0()
    {
        ChromiumSession.Require();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await ChromiumSession.StartAsync();
        var page = await browser.NewPageAsync();
        await OpenAsync(page, service);

        await page.Locator("#shutdown").ClickAsync();
        await Assertions.Expect(page.Locator("#confirm-shutdown")).ToBeVisibleAsync();
        await page.Locator("#shutdown-cancel").ClickAsync();
        Assert.False(service.HasExited);
        await page.Locator("#shutdown").ClickAsync();
        await page.Locator("#confirm-shutdown button[type='submit']").ClickAsync();

        Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await Assertions.Expect(page.Locator("#stop")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-mode", "gone");
    }

    private static async Task OpenAsync(IPage page, ServiceProcess service)
    {
        var response = await page.GotoAsync(new Uri(service.BaseAddress, "/dashboard").ToString());
        Assert.True(response?.Ok, $"GET /dashboard answered {response?.Status}");
        await Assertions.Expect(page.Locator("#queue-rows tr[data-queue]").First).ToBeVisibleAsync();
    }

    private static async Task<string> EnqueueAsync(ServiceProcess service, string queue, string json, bool batch = false)
    {
        using var response = await service.Client.PostAsync($"/queues/{queue}/messages{(batch ? "/batch" : "")}", Json(json), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return batch ? "" : body.GetProperty("id").GetString()!;
    }

    private static async Task<bool> PausedAsync(ServiceProcess service, string queue) =>
        (await service.Client.GetFromJsonAsync<JsonElement>($"/queues/{queue}", Ct)).GetProperty("paused").GetBoolean();

    /// <summary>
    /// Screenshots go to artifacts/screenshots (ignored by git), so a test run leaves the work tree clean; with
    /// QUEUEAPI_UPDATE_SCREENSHOTS=1 they replace the README's pictures in docs/images instead.
    /// </summary>
    private static string ScreenshotPath(string file)
    {
        var update = Environment.GetEnvironmentVariable("QUEUEAPI_UPDATE_SCREENSHOTS") == "1";
        var dir = Path.Combine(ServiceProcess.RepositoryRoot(), update ? "docs" : "artifacts", update ? "images" : "screenshots");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, file);
    }
}
