using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Lifecycle;

/// <summary>The durable store as an operator meets it: SIGKILL, restarts on the same file, poison messages, a second process.</summary>
public sealed class DurabilityTests : IDisposable
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    private readonly string _data = Directory.CreateTempSubdirectory("queueapi-durable-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Dictionary<string, string> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["QueueApi__Queues__demo__Workers"] = "2",
            ["QueueApi__Queues__demo__RetainFinished"] = "100000",
            ["QueueApi__Queues__demo__Capacity"] = "100000",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task EveryMessageAnswered202BeforeASigkillEndsSucceededAfterARestartOnTheSameFile()
    {
        var accepted = new ConcurrentBag<string>();
        await using (var service = await ServiceProcess.StartAsync(Settings(), dataFolder: _data))
        {
            await PostUntilKilledAsync(service, accepted, 300, (_, stop) => service.Client.PostAsync("/queues/demo/messages", Json("""{"sleepMs": 2}"""), stop));
        }

        await using var restarted = await ServiceProcess.StartAsync(Settings(), dataFolder: _data);
        foreach (var id in accepted)
        {
            var status = await Eventually.WaitAsync(
                () => StatusOf(restarted, "demo", id), s => s == "succeeded", Within, $"message {id} to succeed after the restart");
            Assert.Equal("succeeded", status);
        }

        var queue = await restarted.Client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct);
        var books = queue.GetProperty("counts");
        Assert.True(books.GetProperty("accepted").GetInt64() >= accepted.Count, $"accepted counts every 202: {books}");
    }

    /// <summary>
    /// With the queue paused nothing is claimed, so with PackIntake on every accepted message is still in a packed
    /// intake row (a batch's, or a group of singles') when the process dies: the restart reads them in place and each runs.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BatchesAndSinglesAcceptedIntoAPausedQueueBeforeASigkillAllRunAfterTheRestart(bool packed)
    {
        var accepted = new ConcurrentBag<string>();
        var settings = Settings(("QueueApi__Storage__PackIntake", packed ? "true" : "false"));
        await using (var service = await ServiceProcess.StartAsync(settings, dataFolder: _data))
        {
            using (var paused = await service.Client.PostAsync("/queues/demo/pause", null, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
            }

            // Two posters send batches of 20, two send single messages.
            await PostUntilKilledAsync(service, accepted, 1000, (i, stop) => i % 2 == 0
                ? service.Client.PostAsync("/queues/demo/messages/batch", Json($"[{string.Join(',', Enumerable.Repeat("""{"n": 1}""", 20))}]"), stop)
                : service.Client.PostAsync("/queues/demo/messages", Json("""{"n": 1}"""), stop));
        }

        await using var restarted = await ServiceProcess.StartAsync(settings, dataFolder: _data);
        var queue = await restarted.Client.GetFromJsonAsync<JsonElement>("/queues/demo", Ct);
        Assert.True(queue.GetProperty("counts").GetProperty("queued").GetInt64() >= accepted.Count, $"every 202 is queued after the restart: {queue}");
        using (var resumed = await restarted.Client.PostAsync("/queues/demo/resume", null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }

        foreach (var id in accepted)
        {
            Assert.Equal("succeeded", await Eventually.WaitAsync(
                () => StatusOf(restarted, "demo", id), s => s == "succeeded", Within, $"message {id} to succeed after the restart"));
        }
    }

    [Fact]
    public async Task AMessageThatKillsTheProcessIsDeadLetteredAsPoisonAfterMaxCrashesAndTheQueueRunsOn()
    {
        var settings = Settings(("QueueApi__Queues__demo__MaxCrashes", "2"));
        string poison;
        await using (var service = await ServiceProcess.StartAsync(settings, dataFolder: _data))
        {
            // Paused while it is posted, so the 202 comes back before the message kills the process.
            (await service.Client.PostAsync("/queues/demo/pause", null, Ct)).Dispose();
            using var posted = await service.Client.PostAsync("/queues/demo/messages", Json("""{"exit": true}"""), Ct);
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            poison = (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
            try
            {
                (await service.Client.PostAsync("/queues/demo/resume", null, Ct)).Dispose();
            }
            catch (HttpRequestException)
            {
                // The resume let the poison run, and it may kill the process before the answer.
            }

            Assert.NotEqual(0, await service.WaitForExitAsync(Within));
        }

        // The next start runs it again (one crash counted), and it kills that process too.
        await using (var again = await ServiceProcess.StartAsync(settings, dataFolder: _data, waitUntilReady: false))
        {
            Assert.NotEqual(0, await again.WaitForExitAsync(Within));
        }

        await using var survivor = await ServiceProcess.StartAsync(settings, dataFolder: _data);
        var dead = await survivor.Client.GetFromJsonAsync<JsonElement>("/queues/demo/dead-letters", Ct);
        Assert.Contains(poison, dead.ToString(), StringComparison.Ordinal);
        Assert.Contains("crashed the worker 2 times (poison message)", dead.ToString(), StringComparison.Ordinal);
        using var next = await survivor.Client.PostAsync("/queues/demo/messages", Json("{}"), Ct);
        var id = (await next.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        Assert.Equal("succeeded", await Eventually.WaitAsync(() => StatusOf(survivor, "demo", id), s => s == "succeeded", Within, "the next message"));
    }

    [Fact]
    public async Task AnImmediateStopKeepsTheQueuedMessagesStoredSaysHowManyInTheReportAndTheNextStartRunsThem()
    {
        var report = Path.Combine(_data, "report.json");
        var settings = Settings(("QueueApi__Queues__demo__Workers", "1"), ("QueueApi__Shutdown__ReportPath", report));
        string[] ids;
        await using (var service = await ServiceProcess.StartAsync(settings, dataFolder: _data))
        {
            // Two seconds each: the stop below comes well before a second message could finish, even on a loaded machine.
            var items = string.Join(',', Enumerable.Repeat("""{"sleepMs": 2000}""", 10));
            using var batch = await service.Client.PostAsync("/queues/demo/messages/batch", Json($"[{items}]"), Ct);
            ids = [.. (await batch.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("ids").EnumerateArray().Select(e => e.GetString()!)];

            using var stop = await service.Client.PostAsync("/shutdown", Json("""{"mode": "immediate"}"""), Ct);
            Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
            Assert.Equal(0, await service.WaitForExitAsync(Within));
        }

        using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(report, Ct)))
        {
            var stored = json.RootElement.GetProperty("stored").GetProperty("demo").GetInt32();
            var demo = json.RootElement.GetProperty("queues").GetProperty("demo");
            Assert.InRange(stored, 9, 10); // All but the one that may have finished; the cancelled one is kept too.
            Assert.Equal(0, demo.GetProperty("dropped").GetInt32());
            Assert.Equal(10 - stored, demo.GetProperty("succeeded").GetInt32());
        }

        await using var restarted = await ServiceProcess.StartAsync(Settings(("QueueApi__Queues__demo__Workers", "4")), dataFolder: _data);
        foreach (var id in ids)
        {
            Assert.Equal("succeeded", await Eventually.WaitAsync(() => StatusOf(restarted, "demo", id), s => s == "succeeded", Within, $"kept message {id}"));
        }
    }

    [Fact]
    public async Task ASecondProcessOnTheSameFileRefusesToStartWithExit2AndOneLineNamingTheFile()
    {
        await using var first = await ServiceProcess.StartAsync(dataFolder: _data);

        await using var second = await ServiceProcess.StartAsync(dataFolder: _data, waitUntilReady: false);

        Assert.Equal(2, await second.WaitForExitAsync(Within));
        var line = Assert.Single(second.Output.Split('\n'), l => l.StartsWith("QueueApi cannot start", StringComparison.Ordinal));
        Assert.Contains(Path.Combine(_data, "queueapi.db"), line, StringComparison.Ordinal);
        Assert.Contains("in use by another", line, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await first.Client.GetAsync("/health/ready", Ct)).StatusCode);
    }

    [Fact]
    public async Task ACorruptDatabaseFileStopsStartUpWithExit2AndIsLeftAsItWas()
    {
        var file = Path.Combine(_data, "queueapi.db");
        var garbage = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("not a database ", 500)));
        await File.WriteAllBytesAsync(file, garbage, Ct);

        await using var service = await ServiceProcess.StartAsync(dataFolder: _data, waitUntilReady: false);

        Assert.Equal(2, await service.WaitForExitAsync(Within));
        Assert.Contains($"The database file '{file}' is corrupt", service.Output, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(file, Ct));
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);

    /// <summary>
    /// Four posters send <paramref name="post"/> (given their number) until at least <paramref name="atLeast"/> ids
    /// were answered 202, then the process is killed (SIGKILL) under them; every id of a 202 is in <paramref name="accepted"/>.
    /// </summary>
    private static async Task PostUntilKilledAsync(
        ServiceProcess service, ConcurrentBag<string> accepted, int atLeast, Func<int, CancellationToken, Task<HttpResponseMessage>> post)
    {
        using var stop = new CancellationTokenSource();
        var posters = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await post(i, stop.Token);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        var body = await response.Content.ReadFromJsonAsync<JsonElement>(stop.Token);
                        foreach (var id in body.TryGetProperty("ids", out var ids) ? ids.EnumerateArray().Select(e => e.GetString()!) : [body.GetProperty("id").GetString()!])
                        {
                            accepted.Add(id);
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException)
                {
                    // The process died under the request: that answer never was a 202.
                }
            }
        }, Ct)).ToArray();

        await Eventually.WaitAsync(() => accepted.Count >= atLeast, Within, $"{atLeast} accepted messages");
        await service.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(posters).WaitAsync(Within, Ct);
    }

    private static async Task<string?> StatusOf(ServiceProcess service, string queue, string id)
    {
        using var response = await service.Client.GetAsync($"/queues/{queue}/messages/{id}", Ct);
        return response.StatusCode == HttpStatusCode.OK
            ? (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString()
            : null;
    }
}
