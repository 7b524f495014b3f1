using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary><c>GET /metrics</c>: the engine's instruments in Prometheus text format, one series per queue.</summary>
public sealed partial class MetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task MetricsShowPerQueueSeriesWithTheValuesOfWhatWasEnqueued()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            // Immediate: disposing cancels the sleeping demo messages instead of draining them.
            ["QueueApi:Shutdown:DefaultMode"] = "Immediate",
        });
        using var client = app.CreateClient();

        // default (log handler): three that succeed.
        for (var i = 0; i < 3; i++)
        {
            await EnqueueAsync(client, "default", $$"""{"n": {{i}}}""");
        }

        // demo (2 workers): one that fails for good, then two that keep both workers busy and three that wait.
        await EnqueueAsync(client, "demo", """{"fail": "metrics test", "permanent": true}""");
        await Eventually.WaitAsync(() => QueueAsync(client, "demo"), q => q.GetProperty("counts").GetProperty("failed").GetInt64() == 1, Timeout, "the failing demo message");
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync(client, "demo", """{"sleepMs": 60000}""");
        }

        await Eventually.WaitAsync(() => QueueAsync(client, "default"), q => q.GetProperty("counts").GetProperty("succeeded").GetInt64() == 3, Timeout, "three default messages to succeed");
        await Eventually.WaitAsync(() => QueueAsync(client, "demo"), q => q.GetProperty("busyWorkers").GetInt32() == 2 && q.GetProperty("depth").GetInt32() == 3, Timeout, "two busy demo workers and three waiting messages");

        using var response = await client.GetAsync("/metrics", ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync(ct);
        var series = Parse(text);

        Assert.Equal(3, Value(series, text, "messaging_client_sent_messages_total", ("messaging_destination_name", "default")));
        Assert.Equal(6, Value(series, text, "messaging_client_sent_messages_total", ("messaging_destination_name", "demo")));
        Assert.Equal(3, Value(series, text, "queueapi_messages_completed_total", ("messaging_destination_name", "default"), ("queueapi_outcome", "succeeded")));
        Assert.Equal(0, Value(series, text, "queueapi_messages_completed_total", ("messaging_destination_name", "default"), ("queueapi_outcome", "failed")));
        Assert.Equal(1, Value(series, text, "queueapi_messages_completed_total", ("messaging_destination_name", "demo"), ("queueapi_outcome", "failed")));
        Assert.Equal(0, Value(series, text, "queueapi_queue_depth", ("messaging_destination_name", "default")));
        Assert.Equal(3, Value(series, text, "queueapi_queue_depth", ("messaging_destination_name", "demo")));
        Assert.Equal(2, Value(series, text, "queueapi_workers_alive", ("messaging_destination_name", "default")));
        Assert.Equal(0, Value(series, text, "queueapi_workers_busy", ("messaging_destination_name", "default")));
        Assert.Equal(2, Value(series, text, "queueapi_workers_busy", ("messaging_destination_name", "demo")));
        Assert.Equal(3, Value(series, text, "messaging_process_duration_seconds_count", ("messaging_destination_name", "default")));
        Assert.Equal(3, Value(series, text, "messaging_process_duration_seconds_bucket", ("messaging_destination_name", "default"), ("le", "+Inf")));
        Assert.Equal(3, Value(series, text, "messaging_client_consumed_messages_total", ("messaging_destination_name", "demo")));
        Assert.Equal(1, Value(series, text, "messaging_process_duration_seconds_count", ("messaging_destination_name", "demo"), ("error_type", "Failed")));
        Assert.Equal(1, Value(series, text, "target_info", ("service_name", "QueueApi")));
        Assert.Contains("# TYPE messaging_process_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE queueapi_queue_depth gauge", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsOfOneHostDoNotIncludeAnotherHostInTheSameProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var busy = new QueueApiApplication();
        await using var idle = new QueueApiApplication();
        using var busyClient = busy.CreateClient();
        using var idleClient = idle.CreateClient();
        await EnqueueAsync(busyClient, "default", "{}");

        var text = await idleClient.GetStringAsync("/metrics", ct);

        Assert.Equal(0, Value(Parse(text), text, "messaging_client_sent_messages_total", ("messaging_destination_name", "default")));
    }

    private static async Task EnqueueAsync(HttpClient client, string queue, string payload)
    {
        using var response = await client.PostAsync($"/queues/{queue}/messages", new StringContent(payload, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task<JsonElement> QueueAsync(HttpClient client, string queue) =>
        await client.GetFromJsonAsync<JsonElement>($"/queues/{queue}", TestContext.Current.CancellationToken);

    /// <summary>The value of the one series with that name whose labels include the given ones.</summary>
    private static double Value(IReadOnlyList<Series> all, string text, string name, params (string Label, string Value)[] labels)
    {
        var matches = all.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).ToList();
        Assert.True(matches.Count == 1, $"Expected one series {name} with {string.Join(", ", labels)}; found {matches.Count}.\n{text}");
        return matches[0].Value;
    }

    private static List<Series> Parse(string text) =>
        [.. text.Split('\n')
            .Select(line => SeriesLine().Match(line))
            .Where(m => m.Success)
            .Select(m => new Series(
                m.Groups["name"].Value,
                LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value),
                double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)))];

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>\S+)")]
    private static partial Regex SeriesLine();

    [GeneratedRegex("""(?<k>[a-zA-Z_][a-zA-Z0-9_]*)="(?<v>[^"]*)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex LabelPair();

    private sealed record Series(string Name, Dictionary<string, string> Labels, double Value);
}
