using Microsoft.Playwright;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>
/// Swagger UI in a real browser: Debian's chromium driven by Playwright (the NuGet driver, with
/// <c>ExecutablePath</c>; no browser is ever downloaded). Skipped when chromium is not installed.
/// </summary>
public sealed class SwaggerUiBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    // Generous: Swagger UI's bundle takes seconds to parse on a busy two-core CI machine.
    private const float StepTimeoutMs = 30_000;

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    [Fact]
    public async Task TryingOutEnqueueInSwaggerUiShows202()
    {
        RequireChromium();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.OpenSwaggerAsync(service.BaseAddress);

        var operation = await ExpandAsync(page, "Queues", "EnqueueMessage");
        await operation.Locator("input[placeholder='queue']").FillAsync("default");
        await operation.Locator("textarea.body-param__text").FillAsync("""{"from": "swagger ui"}""");
        await operation.Locator("button.execute").ClickAsync();

        await Assertions.Expect(ResponseStatus(operation)).ToHaveTextAsync("202", new() { Timeout = StepTimeoutMs });
        await Assertions.Expect(operation.Locator(".live-responses-table tbody .response-col_description").First).ToContainTextAsync("\"status\": \"queued\"", new() { Timeout = StepTimeoutMs });
    }

    [Fact]
    public async Task InProductionShutdownNeedsAuthorizeThenAnswers202AndTheProcessExits0()
    {
        RequireChromium();
        const string key = "swagger-ui-admin-key-42";
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string> { ["QueueApi__AdminApiKey"] = key }, aspnetEnvironment: "Production");
        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.OpenSwaggerAsync(service.BaseAddress);

        var operation = await ExpandAsync(page, "Shutdown", "Shutdown");
        await operation.Locator("textarea.body-param__text").FillAsync("""{"mode": "drain"}""");
        await operation.Locator("button.execute").ClickAsync();
        await Assertions.Expect(ResponseStatus(operation)).ToHaveTextAsync("401", new() { Timeout = StepTimeoutMs });
        Assert.False(service.HasExited);

        // Authorize: the dialog of the AdminApiKey scheme takes the key for every admin action.
        await page.Locator(".scheme-container button.authorize").ClickAsync();
        var dialog = page.Locator(".modal-ux");
        await dialog.Locator("input").First.FillAsync(key);
        await dialog.Locator("button.modal-btn.auth.authorize").ClickAsync();
        await dialog.Locator("button.btn-done").ClickAsync();

        await operation.Locator("button.execute").ClickAsync();
        await Assertions.Expect(ResponseStatus(operation)).ToHaveTextAsync("202", new() { Timeout = StepTimeoutMs });
        Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static void RequireChromium()
    {
        if (!File.Exists(Chromium))
        {
            Assert.Skip($"{Chromium} is missing: run bash .ci/install (it installs Debian's chromium).");
        }
    }

    /// <summary>Opens an operation's block (Try it out is on by default in this service's Swagger UI).</summary>
    private static async Task<ILocator> ExpandAsync(IPage page, string tag, string operationId)
    {
        var operation = page.Locator($"#operations-{tag}-{operationId}");
        await operation.Locator(".opblock-summary").First.ClickAsync();
        await Assertions.Expect(operation.Locator("button.execute")).ToBeVisibleAsync(new() { Timeout = StepTimeoutMs });
        return operation;
    }

    private static ILocator ResponseStatus(ILocator operation) =>
        operation.Locator(".live-responses-table tbody .response-col_status").First;

    /// <summary>Playwright's driver and one headless chromium, both ended on dispose.</summary>
    private sealed class BrowserSession : IAsyncDisposable
    {
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;

        private BrowserSession(IPlaywright playwright, IBrowser browser)
        {
            _playwright = playwright;
            _browser = browser;
        }

        public static async Task<BrowserSession> StartAsync()
        {
            var playwright = await Playwright.CreateAsync();
            try
            {
                var browser = await playwright.Chromium.LaunchAsync(new()
                {
                    ExecutablePath = Chromium,
                    Headless = true,
                    Args = ChromiumArgs,
                    Timeout = 30_000,
                });
                return new BrowserSession(playwright, browser);
            }
            catch
            {
                playwright.Dispose();
                throw;
            }
        }

        public async Task<IPage> OpenSwaggerAsync(Uri baseAddress)
        {
            var page = await _browser.NewPageAsync();
            page.SetDefaultTimeout(StepTimeoutMs);
            var response = await page.GotoAsync(new Uri(baseAddress, "/swagger").ToString());
            Assert.True(response?.Ok, $"GET /swagger answered {response?.Status}");
            // Swagger UI renders the operations once it has fetched /openapi/v1.json.
            await Assertions.Expect(page.Locator(".opblock").First).ToBeVisibleAsync(new() { Timeout = StepTimeoutMs });
            return page;
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.CloseAsync();
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }
    }
}
