using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine;
using QueueApi.Engine.Workers;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// A generated sweep of malformed requests over every route and method: bad JSON, wrong types, numbers for
/// enum names, bytes that are not UTF-8, huge values, missing and wrong content types, unknown ids, bad query
/// values. Seeded, so a failure reproduces; the failure message lists each offending request. (No %00 in paths:
/// the test host throws on it before the app sees it, and Kestrel refuses such a request line itself.)
/// </summary>
public sealed class BadInputSweepTests
{
    private const int Seed = 20261201;

    private static readonly string[] UnknownNames =
        ["nope", "DEFAULT", "%01", "a%2Fb", "..", "%F0%9F%98%80", "%FF", "%20", new string('q', 300), "default%01", "1", "-1", "null"];

    private static readonly string?[] ContentTypes =
        ["application/json", null, "text/plain", "application/xml", "application/x-www-form-urlencoded", "application/json; charset=utf-16",
         "application/problem+json", "multipart/form-data; boundary=x", "application/jsonx", "json"];

    /// <summary>Bodies no route may act on: not JSON, not UTF-8, not the right shape, or too large.</summary>
    private static readonly byte[][] BadBodies =
    [
        "not json"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "[1,"u8.ToArray(), "{\"a\":}"u8.ToArray(), "{'a': 1}"u8.ToArray(),
        "NaN"u8.ToArray(), "Infinity"u8.ToArray(), "01"u8.ToArray(), "1."u8.ToArray(), "\"unterminated"u8.ToArray(),
        "{\"a\": 1}}"u8.ToArray(), "[] []"u8.ToArray(), "{\"a\": 1,}"u8.ToArray(), "nul"u8.ToArray(), "tru"u8.ToArray(),
        "{\"a\": \"tab\there\"}"u8.ToArray(), [0x00], "   "u8.ToArray(), "\"\\x41\""u8.ToArray(), "{\"a\" 1}"u8.ToArray(),
        Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100)),
        [.. "{\"a\": \""u8, 0x80, .. "\"}"u8], [.. "{\"a\": \"caf"u8, 0xE9, .. "\"}"u8], [.. "{\"a\": \""u8, 0xED, 0xA0, 0x80, .. "\"}"u8],
        [.. "{\"a\": \""u8, 0xC0, 0xAF, .. "\"}"u8], [0xFF, 0xFE, .. "{}"u8], [0xEF, 0xBB, 0xBF, .. "{\"a\": 1}"u8],
        Encoding.Unicode.GetBytes("{\"a\": 1}"),
        Encoding.UTF8.GetBytes("[" + new string('1', 300_000) + "]"),
        Encoding.UTF8.GetBytes("{\"big\": \"" + new string('x', 5_000_000) + "\"}"),
    ];

    /// <summary>Shutdown bodies that must be refused: wrong types, numbers for names, unknown fields.</summary>
    private static readonly string[] BadShutdownBodies =
    [
        """{"mode": 42}""", """{"mode": "1"}""", """{"mode": "0"}""", """{"mode": 0}""", """{"mode": 1.5}""", """{"mode": -1}""",
        """{"mode": "drain,immediate"}""", """{"mode": " drain"}""", """{"mode": "drain "}""", """{"mode": "draining"}""",
        """{"mode": true}""", """{"mode": {}}""", """{"mode": ["drain"]}""", """{"mode": "0x1"}""", """{"mode": "1e0"}""",
        """{"mode": 99999999999999999999999}""", """{"Mode": "Drain", "extra": 1}""", """{"mood": "drain"}""", """[]""", "\"drain\"",
        "1", "null", "true", """{"mode": "immediate", "mode": "drain"}""", """{"mode": "\u0000"}""",
    ];

    /// <summary>Schedule bodies that are JSON but not a valid schedule: every one must be a 400 naming a field.</summary>
    private static readonly string[] BadScheduleBodies =
    [
        """{"queue": "default", "cron": "0 7 * *"}""", """{"queue": "default", "cron": "0 7 * * * * *"}""", """{"queue": "default", "cron": "61 * * * *"}""",
        """{"queue": "default", "cron": "0 7 * * *", "timeZone": "Mars/Olympus"}""", """{"queue": "default", "cron": "0 7 * * *", "timeZone": ""}""",
        """{"queue": "nope", "cron": "0 7 * * *"}""", """{"cron": "0 7 * * *"}""", """{"queue": "default"}""", """{"queue": "default", "cron": 7}""",
        """{"queue": "default", "cron": "0 7 * * *", "priority": 10}""", """{"queue": "default", "cron": "0 7 * * *", "priority": 1.5}""",
        """{"queue": "default", "cron": "0 7 * * *", "misfire": 0}""", """{"queue": "default", "cron": "0 7 * * *", "misfire": "1"}""",
        """{"queue": "default", "cron": "0 7 * * *", "enabled": "true"}""", """{"queue": "default", "cron": "0 7 * * *", "extra": 1}""",
        """[]""", "\"0 7 * * *\"", "null", """{"queue": null, "cron": null}""",
    ];

    private static readonly string[] BadPriorities = ["10", "-1", "abc", "5.0", "", "%FF", "1e0", "99999999999", " 5", "0x5"];

    private static readonly string[] BadLimits = ["abc", "-5", "99999999999999", "1e3", "", "%FF", "1&limit=2", "1.5", "0x10", " 1"];

    [Theory]
    [InlineData("Development")] // admin actions open, fault injection on: the handlers themselves must refuse
    [InlineData("Production")] // the admin key filter answers first; its refusals must be problems too
    public async Task HundredsOfMalformedRequestsGetProblemsNever5xxAndChangeNothing(string environment)
    {
        await using var app = new QueueApiApplication(
            new Dictionary<string, string?> { ["QueueApi:AdminApiKey"] = "sweep-key", ["QueueApi:Chaos:Enabled"] = "true" },
            environment,
            holdHostOnStop: true);
        using var client = app.CreateClient();
        var engine = app.Services.GetRequiredService<QueueEngine>();
        var expectedAccepted = engine.Queues.ToDictionary(q => q.Name, q => q.Counts().Accepted);
        var requests = Generate(new Random(Seed)).ToList();
        var failures = new List<string>();

        foreach (var r in requests)
        {
            using var request = new HttpRequestMessage(r.Method, r.Path);
            if (r.Body is not null)
            {
                request.Content = new ByteArrayContent(r.Body);
                request.Content.Headers.ContentType = null;
                if (r.ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType); // malformed ones too
                }
            }

            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            var status = (int)response.StatusCode;
            var what = $"{r.Method} {Shorten(r.Path)} [{r.ContentType ?? "no content type"}, {r.Body?.Length ?? 0} bytes: {Shorten(Encoding.UTF8.GetString(r.Body ?? []))}] -> {status}";
            if (status >= 500)
            {
                failures.Add($"{what}: a server error");
            }
            else if (status >= 400 && await ProblemFault(response) is { } fault)
            {
                failures.Add($"{what}: {fault}");
            }
            else if (status < 400 && r.MustBeRefused)
            {
                failures.Add($"{what}: a request that must be refused was not");
            }
            else if (status == 202 && r.Path.EndsWith("/messages", StringComparison.Ordinal))
            {
                expectedAccepted[r.Path.Split('/')[2]]++; // a mutation that is still valid JSON is a real message
            }
            else if (status == 202 && r.Path.EndsWith("/messages/batch", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(r.Body);
                expectedAccepted[r.Path.Split('/')[2]] += doc.RootElement.GetArrayLength();
            }
        }

        Assert.True(requests.Count >= 600, $"only {requests.Count} requests generated");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests.Count} requests:\n{string.Join('\n', failures.Take(40))}");

        // No side effect: no stop, no fault, nothing paused, the books hold exactly what was accepted.
        Assert.False(app.Lifetime.StopRequested.IsCompleted, "a refused request asked the host to stop");
        Assert.True(engine.IsReady(out var why), why);
        Assert.All(engine.Workers, w => Assert.True(w.Thread.IsAlive && w.Fault is null && w.State != WorkerState.Faulted, $"{w.Id} is not alive and well"));
        Assert.All(engine.Queues, q => Assert.False(q.IsPaused, $"{q.Name} was paused"));
        Assert.All(engine.Queues, q => Assert.Equal(expectedAccepted[q.Name], q.Counts().Accepted));
        Assert.Null(engine.Report());
        Assert.Equal("[]", await client.GetStringAsync("/schedules", TestContext.Current.CancellationToken));

        // Still accepting.
        using var ok = new ByteArrayContent("{\"after\": \"sweep\"}"u8.ToArray());
        ok.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var accepted = await client.PostAsync("/queues/default/messages", ok, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using var ready = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private sealed record SweepRequest(HttpMethod Method, string Path, byte[]? Body, string? ContentType, bool MustBeRefused);

    private static IEnumerable<SweepRequest> Generate(Random random)
    {
        static SweepRequest Bodiless(HttpMethod m, string path, bool refuse = false) => new(m, path, null, null, refuse);

        // Every body route, every bad body, with JSON and a random other content type.
        foreach (var body in BadBodies)
        {
            foreach (var queue in new[] { "default", "demo", Pick(random, UnknownNames) })
            {
                yield return new(HttpMethod.Post, $"/queues/{queue}/messages", body, "application/json", true);
                yield return new(HttpMethod.Post, $"/queues/{queue}/messages/batch", body, Pick(random, ContentTypes), true);
            }

            yield return new(HttpMethod.Post, "/shutdown", body, Pick(random, ContentTypes), true);
            yield return new(HttpMethod.Post, "/shutdown", body, "application/json", true);
        }

        // Shutdown bodies that are JSON but not a shutdown request, under every content type.
        foreach (var body in BadShutdownBodies)
        {
            foreach (var type in ContentTypes)
            {
                yield return new(HttpMethod.Post, "/shutdown", Encoding.UTF8.GetBytes(body), type, true);
            }
        }

        // Valid JSON under a content type that is not JSON, or none: 415, nothing queued.
        foreach (var type in ContentTypes.Where(t => t is null || !t.Contains("json", StringComparison.Ordinal)))
        {
            yield return new(HttpMethod.Post, "/queues/default/messages", "{\"a\": 1}"u8.ToArray(), type, true);
            yield return new(HttpMethod.Post, "/queues/default/messages/batch", "[{\"a\": 1}]"u8.ToArray(), type, true);
        }

        // Batches of the wrong shape.
        foreach (var batch in new[] { "[]", "{}", "1", "\"x\"", "null", "[1,]", "[[1]", "[{}] x", "[" + string.Join(',', Enumerable.Repeat("1", 1001)) + "]" })
        {
            yield return new(HttpMethod.Post, "/queues/default/messages/batch", Encoding.UTF8.GetBytes(batch), "application/json", true);
        }

        // Unknown queues, messages, dead letters and workers on every route that takes an id.
        foreach (var name in UnknownNames)
        {
            yield return Bodiless(HttpMethod.Get, $"/queues/{name}");
            yield return Bodiless(HttpMethod.Get, $"/queues/{name}/dead-letters");
            yield return Bodiless(HttpMethod.Post, $"/queues/{name}/pause", refuse: true);
            yield return Bodiless(HttpMethod.Post, $"/queues/{name}/resume", refuse: true);
            yield return Bodiless(HttpMethod.Get, $"/queues/default/messages/{name}");
            yield return Bodiless(HttpMethod.Get, $"/queues/{name}/messages/{name}");
            yield return Bodiless(HttpMethod.Post, $"/queues/default/dead-letters/{name}/requeue", refuse: true);
            yield return Bodiless(HttpMethod.Post, $"/queues/{name}/dead-letters/{name}/requeue", refuse: true);
            yield return Bodiless(HttpMethod.Delete, $"/queues/default/dead-letters/{name}", refuse: true);
            yield return Bodiless(HttpMethod.Get, $"/workers/{name}");
            yield return Bodiless(HttpMethod.Post, $"/workers/{name}/crash", refuse: true);
            yield return Bodiless(HttpMethod.Post, $"/workers/{name}/hang", refuse: true);
            yield return Bodiless(HttpMethod.Post, $"/workers/default-{name}x/crash", refuse: true);
        }

        // Bad query values.
        foreach (var limit in BadLimits)
        {
            yield return Bodiless(HttpMethod.Get, $"/queues/default/dead-letters?limit={limit}");
            yield return Bodiless(HttpMethod.Get, $"/queues?limit={limit}&mode=42");
        }

        // Schedules: bad bodies and bad schedules on PUT, unknown names on every schedule route; bad priorities on enqueue.
        foreach (var body in BadBodies)
        {
            yield return new(HttpMethod.Put, "/schedules/sweep", body, Pick(random, ContentTypes), true);
        }

        foreach (var body in BadScheduleBodies)
        {
            yield return new(HttpMethod.Put, $"/schedules/{Pick(random, ["sweep", "s.1", "A_b-c"])}", Encoding.UTF8.GetBytes(body), "application/json", true);
        }

        foreach (var name in UnknownNames)
        {
            yield return Bodiless(HttpMethod.Get, $"/schedules/{name}");
            yield return Bodiless(HttpMethod.Delete, $"/schedules/{name}", refuse: true);
            yield return Bodiless(HttpMethod.Post, $"/schedules/{name}/trigger", refuse: true);
        }

        foreach (var priority in BadPriorities)
        {
            yield return new(HttpMethod.Post, $"/queues/default/messages?priority={priority}", "{}"u8.ToArray(), "application/json", true);
            yield return new(HttpMethod.Post, $"/queues/demo/messages/batch?priority={priority}", "[{}]"u8.ToArray(), "application/json", true);
        }

        // Methods a route does not take, and routes that do not exist.
        string[] paths = ["/queues", "/queues/default", "/queues/default/messages", "/queues/default/messages/batch", "/queues/default/pause",
            "/workers", "/workers/default-1", "/workers/default-1/crash", "/shutdown", "/shutdown/report", "/health", "/health/live", "/metrics"];
        foreach (var path in paths)
        {
            foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch, new HttpMethod("PURGE") })
            {
                yield return new(method, path, "{\"mode\": \"drain\"}"u8.ToArray(), "application/json", true);
            }
        }

        foreach (var path in new[] { "/nope", "/queues/default/messages/batch/more", "/workers/default-1/crash/now", "/shutdown/now", "/health/nope" })
        {
            yield return new(HttpMethod.Post, path, "{}"u8.ToArray(), "application/json", true);
        }

        // Random byte-level mutations of good bodies: most break the JSON; the few that stay valid are real
        // messages (counted), but never a shutdown, which always carries a mutated mode.
        var goodMessage = "{\"sleepMs\": 5, \"name\": \"grüße\", \"list\": [1, 2.5, true, null]}"u8.ToArray();
        var goodBatch = "[{\"n\": 1}, {\"n\": \"two\"}, [3]]"u8.ToArray();
        for (var i = 0; i < 150; i++)
        {
            yield return new(HttpMethod.Post, "/queues/default/messages", Mutate(random, goodMessage), "application/json", false);
            yield return new(HttpMethod.Post, "/queues/default/messages/batch", Mutate(random, goodBatch), "application/json", false);
            var mode = Mutate(random, "drain"u8.ToArray());
            if (!Encoding.UTF8.GetString(mode).Equals("drain", StringComparison.OrdinalIgnoreCase))
            {
                yield return new(HttpMethod.Post, "/shutdown", [.. "{\"mode\": \""u8, .. mode, .. "\"}"u8], "application/json", true);
            }
        }
    }

    private static byte[] Mutate(Random random, byte[] good)
    {
        var bytes = good.ToList();
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes.RemoveAt(at); break;
                case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                case 2: bytes[at] = (byte)random.Next(256); break;
                case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                default: bytes.Insert(at, (byte)"{}[]\",:0\\"[random.Next(9)]); break;
            }
        }

        return [.. bytes];
    }

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];

    private static string Shorten(string s) => s.Length <= 60 ? s : $"{s[..60]}...({s.Length})";

    /// <summary>What is wrong with an error answer, or null when it is a proper problem.</summary>
    private static async Task<string?> ProblemFault(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType?.ToString() ?? "none"}, not application/problem+json";
        }

        try
        {
            var problem = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).RootElement;
            return problem.TryGetProperty("title", out var t) && !string.IsNullOrWhiteSpace(t.GetString())
                && problem.TryGetProperty("detail", out var d) && !string.IsNullOrWhiteSpace(d.GetString())
                ? null
                : "a problem without a title and a detail";
        }
        catch (JsonException)
        {
            return "a problem body that is not JSON";
        }
    }
}
