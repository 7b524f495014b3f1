using Microsoft.Playwright;

namespace QueueApi.Tests.Support;

/// <summary>
/// Playwright's driver and one headless Debian chromium (<c>ExecutablePath</c>; no browser is ever downloaded),
/// both ended on dispose. Tests call <see cref="Require"/> first, so they skip where chromium is not installed.
/// </summary>
public sealed class ChromiumSession : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    // Generous: a page's scripts take seconds to parse on a busy two-core CI machine.
    public const float StepTimeoutMs = 30_000;

    private static readonly string[] Args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    private readonly IPlaywright _playwright;

    private ChromiumSession(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Skips in mutation runs; without chromium, skips (fails under CI=true: <see cref="Prerequisite.Missing"/>).</summary>
    public static void Require()
    {
        Prerequisite.NotInMutationRun("drives a browser, which costs seconds per test and mutant");
        if (!File.Exists(Executable))
        {
            Prerequisite.Missing(Executable, "run bash .ci/install (it installs Debian's chromium)");
        }
    }

    public static async Task<ChromiumSession> StartAsync()
    {
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Executable,
                Headless = true,
                Args = Args,
                Timeout = 30_000,
            });
            return new ChromiumSession(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A new page in its own context, with the step timeout, at the given size and colour scheme.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, ColorScheme = scheme });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(StepTimeoutMs);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
