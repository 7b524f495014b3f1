using System.Net;
using System.Text;
using System.Text.Json;
using QueueApi.Storage.Postgres.Tests.Support;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Replicas;

/// <summary>Starting replicas of the built service on one PostgreSQL schema, and reading them over HTTP.</summary>
internal static class Replicas
{
    public const string Queue = "work";

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A replica on <paramref name="schema"/>: queue "work" (demo handler), a short lease so tests see a death quickly;
    /// <paramref name="settings"/> adds environment variables (such as schedules).
    /// </summary>
    public static Task<ServiceProcess> StartAsync(
        PostgresCluster cluster, string schema, int workers = 4, string lease = "00:00:03", IReadOnlyDictionary<string, string>? settings = null) =>
        ServiceProcess.StartAsync(new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["QueueApi__Storage__Provider"] = "Postgres",
            ["QueueApi__Storage__ConnectionString"] = cluster.ConnectionString,
            ["QueueApi__Storage__Schema"] = schema,
            ["QueueApi__Storage__LeaseTimeout"] = lease,
            ["QueueApi__Storage__HeartbeatInterval"] = "00:00:00.300",
            ["QueueApi__Queues__work__Handler"] = "demo",
            ["QueueApi__Queues__work__Workers"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["QueueApi__Queues__work__RetainFinished"] = "10000",
            ["Logging__LogLevel__Default"] = "Warning",
        });

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Posts one message; its id when the answer was 202, null when the replica refused or was gone.</summary>
    public static async Task<string?> TryPostAsync(ServiceProcess replica, string payload)
    {
        try
        {
            using var response = await replica.Client.PostAsync($"/queues/{Queue}/messages", Json(payload), Ct);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            return doc.RootElement.GetProperty("id").GetString();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null; // Killed or frozen mid-request: no 202, so nothing was promised.
        }
    }

    public static async Task<JsonElement> GetJsonAsync(ServiceProcess replica, string path)
    {
        using var response = await replica.Client.GetAsync(path, Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return doc.RootElement.Clone();
    }

    /// <summary>The queue's books as one replica reads them (shared by all).</summary>
    public static async Task<JsonElement> CountsAsync(ServiceProcess replica) =>
        (await GetJsonAsync(replica, $"/queues/{Queue}")).GetProperty("counts");

    public static async Task<string> StatusAsync(ServiceProcess replica, string id) =>
        (await GetJsonAsync(replica, $"/queues/{Queue}/messages/{id}")).GetProperty("status").GetString()!;

    /// <summary>Waits until the books show at least <paramref name="succeeded"/> succeeded and nothing left to do.</summary>
    public static Task<JsonElement> WaitForQuietAsync(ServiceProcess replica, int succeeded, TimeSpan timeout) =>
        Eventually.WaitAsync(
            () => CountsAsync(replica),
            c => c.GetProperty("succeeded").GetInt64() >= succeeded
                 && c.GetProperty("queued").GetInt32() + c.GetProperty("inFlight").GetInt32() + c.GetProperty("retrying").GetInt32() == 0,
            timeout,
            $"{succeeded} messages succeeded and none left");
}
