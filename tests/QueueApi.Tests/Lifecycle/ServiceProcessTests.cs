using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Lifecycle;

/// <summary>The built service as a real process: exit codes, signals and logs as an operator sees them.</summary>
public sealed class ServiceProcessTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task CrashingAWorkerMakesTheProcessExitWith3AndLogTheWorkerAndException()
    {
        await using var service = await ServiceProcess.StartAsync();

        using var crashed = await service.Client.PostAsync("/workers/default-2/crash", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, crashed.StatusCode);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var exitCode = await service.WaitForExitAsync(ExitWithin);

        Assert.Equal(3, exitCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed} to exit");
        Assert.Contains("Worker default-2 faulted with InjectedFaultException", service.Output, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"workerFaulted\"", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HangingAWorkerTurnsLivenessTo503AndTheProcessExitsWith4()
    {
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["QueueApi__Queues__default__AttemptTimeout"] = "00:00:01",
            ["QueueApi__Queues__default__StuckGrace"] = "00:00:01",
            ["QueueApi__Shutdown__CancelGrace"] = "00:00:01",
            ["QueueApi__Shutdown__JoinTimeout"] = "00:00:01",
        });

        using var hung = await service.Client.PostAsync("/workers/default-1/hang", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, hung.StatusCode);
        // Busy within its limit is not stuck.
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/health/live", Ct)).StatusCode);

        // Past its limit and grace, liveness says so while the process still answers (it stops soon after).
        var live = await Eventually.WaitAsync(
            () => LiveStatusAsync(service),
            s => s is HttpStatusCode.ServiceUnavailable || service.HasExited,
            ExitWithin, "liveness to turn 503");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, live);

        var exitCode = await service.WaitForExitAsync(ExitWithin);

        Assert.Equal(4, exitCode);
        Assert.Contains("Worker default-1 is stuck", service.Output, StringComparison.Ordinal);
        Assert.Contains("abandoned", service.Output, StringComparison.Ordinal);
    }

    /// <summary>The liveness status, or null while the server does not answer (it may be stopping).</summary>
    private static async Task<HttpStatusCode?> LiveStatusAsync(ServiceProcess service)
    {
        try
        {
            using var response = await service.Client.GetAsync("/health/live", Ct);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    [Fact]
    public async Task ShutdownWithDrainFinishesEveryAcceptedMessageAndExits0()
    {
        var report = Path.Combine(Path.GetTempPath(), $"queueapi-{Guid.NewGuid():N}.json");
        try
        {
            await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
            {
                ["QueueApi__Queues__demo__Workers"] = "2",
                ["QueueApi__Shutdown__ReportPath"] = report,
            });
            using var batch = await service.Client.PostAsync(
                "/queues/demo/messages/batch", Json(string.Join(',', Enumerable.Repeat("""{"sleepMs": 100}""", 12)) is var items ? $"[{items}]" : ""), Ct);
            Assert.Equal(HttpStatusCode.Accepted, batch.StatusCode);

            using var shutdown = await service.Client.PostAsync("/shutdown", Json("""{"mode": "drain"}"""), Ct);
            Assert.Equal(HttpStatusCode.Accepted, shutdown.StatusCode);
            var ticket = await shutdown.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal("drain", ticket.GetProperty("mode").GetString());
            Assert.True(ticket.GetProperty("queued").GetInt64() > 0, "work was still queued when the shutdown began");

            Assert.Equal(0, await service.WaitForExitAsync(ExitWithin));

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report, Ct));
            var demo = json.RootElement.GetProperty("queues").GetProperty("demo");
            Assert.Equal(12, demo.GetProperty("accepted").GetInt32());
            Assert.Equal(12, demo.GetProperty("succeeded").GetInt32());
            Assert.Equal(0, demo.GetProperty("dropped").GetInt32());
            Assert.Equal("requested", json.RootElement.GetProperty("reason").GetString());
        }
        finally
        {
            File.Delete(report);
        }
    }

    [Fact]
    public async Task SigtermDrainsAndExits0()
    {
        await using var service = await ServiceProcess.StartAsync();
        using var posted = await service.Client.PostAsync("/queues/demo/messages", Json("""{"sleepMs": 300}"""), Ct);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        service.Terminate();

        Assert.Equal(0, await service.WaitForExitAsync(ExitWithin));
        Assert.Contains("\"reason\":\"hostStopping\"", service.Output, StringComparison.Ordinal);
        Assert.Contains("\"succeeded\":1", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidConfigurationStopsStartUpWithExit2NamingTheKeyWithoutAStackTrace()
    {
        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(
            "http://127.0.0.1:0", new Dictionary<string, string> { ["QueueApi__Queues__default__Workers"] = "0" }, ExitWithin);

        Assert.Equal(2, exitCode);
        Assert.Contains("QueueApi:Queues:default:Workers", output, StringComparison.Ordinal);
        AssertShortStartUpFailure(output);
    }

    [Fact]
    public async Task APortInUseStopsStartUpWithExit5NamingTheAddressWithoutAStackTraceOrAShutdownReport()
    {
        using var taken = TakePort(out var port);

        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync($"http://127.0.0.1:{port}", null, ExitWithin);

        Assert.Equal(5, exitCode);
        Assert.Contains($"QueueApi cannot start: Failed to bind to address http://127.0.0.1:{port}: address already in use.", output, StringComparison.Ordinal);
        Assert.Contains("--urls", output, StringComparison.Ordinal);
        AssertShortStartUpFailure(output);
    }

    [Fact]
    public async Task AStartUpFailureShowsItsStackTraceWhenLoggingAsksForIt()
    {
        using var taken = TakePort(out var port);

        var (exitCode, output) = await ServiceProcess.RunUntilExitAsync(
            $"http://127.0.0.1:{port}", new Dictionary<string, string> { ["Logging__LogLevel__Microsoft.Extensions.Hosting"] = "Debug" }, ExitWithin);

        Assert.Equal(5, exitCode);
        Assert.Contains("Hosting failed to start", output, StringComparison.Ordinal);
        Assert.Contains("   at ", output, StringComparison.Ordinal);
    }

    /// <summary>A loopback port something else already listens on.</summary>
    private static System.Net.Sockets.TcpListener TakePort(out int port)
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    private static void AssertShortStartUpFailure(string output)
    {
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Shutdown report", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.True(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 8, $"a long start-up failure:\n{output}");
    }
}
