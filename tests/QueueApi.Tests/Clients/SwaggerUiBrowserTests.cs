using Microsoft.Playwright;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>
/// Swagger UI in a real browser: Debian's chromium driven by Playwright (the NuGet driver, with
/// <c>ExecutablePath</c>; no browser is ever downloaded). Without chromium it skips, or fails under CI=true (Prerequisite.Missing).
/// </summary>
public sealed class SwaggerUiBrowserTests
{
    private const float StepTimeoutMs = ChromiumSession.StepTimeoutMs;

    [Fact]
    public async Task TryingOutEnqueueInSwaggerUiShows202()
    {
        ChromiumSession.Require();
        await using var service = await ServiceProcess.StartAsync();
        await using var browser = await ChromiumSession.StartAsync();
        var page = await OpenSwaggerAsync(browser, service.BaseAddress);

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
        ChromiumSession.Require();
        const string key = "swagger-ui-admin-key-42";
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string> { ["QueueApi__AdminApiKey"] = key }, aspnetEnvironment: "Production");
        await using var browser = await ChromiumSession.StartAsync();
        var page = await OpenSwaggerAsync(browser, service.BaseAddress);

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

    private static async Task<IPage> OpenSwaggerAsync(ChromiumSession browser, Uri baseAddress)
    {
        var page = await browser.NewPageAsync();
        var response = await page.GotoAsync(new Uri(baseAddress, "/swagger").ToString());
        Assert.True(response?.Ok, $"GET /swagger answered {response?.Status}");
        // Swagger UI renders the operations once it has fetched /openapi/v1.json.
        await Assertions.Expect(page.Locator(".opblock").First).ToBeVisibleAsync(new() { Timeout = StepTimeoutMs });
        return page;
    }
}
