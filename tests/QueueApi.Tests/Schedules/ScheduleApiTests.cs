using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Schedules;

public sealed class ScheduleApiTests
{
    private static readonly Dictionary<string, string?> Configured = new()
    {
        ["QueueApi:Schedules:nightly:Queue"] = "default",
        ["QueueApi:Schedules:nightly:Cron"] = "0 3 * * *",
        ["QueueApi:Schedules:nightly:TimeZone"] = "Europe/Berlin",
        ["QueueApi:Schedules:nightly:Payload"] = """{"job": "nightly"}""",
    };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

    [Fact]
    public async Task APutScheduleIsListedWithTheConfiguredOnesEachWithItsSourceAndNextRun()
    {
        await using var app = new QueueApiApplication(Configured);
        using var client = app.CreateClient();

        using var created = await client.PutAsync("/schedules/daily-report", Json("""{"queue": "default", "cron": "0 7 * * 1-5", "timeZone": "Europe/Berlin", "payload": {"report": "daily"}}"""), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/schedules/daily-report", created.Headers.Location?.ToString());
        var view = await BodyAsync(created);
        Assert.Equal("api", view.GetProperty("source").GetString());
        Assert.Equal("runOnce", view.GetProperty("misfire").GetString());
        Assert.True(view.GetProperty("enabled").GetBoolean());
        Assert.Equal("""{"report": "daily"}""", view.GetProperty("payload").GetRawText());
        var next = view.GetProperty("nextRunAt").GetDateTimeOffset();
        Assert.True(next > DateTimeOffset.UtcNow && next.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday));

        var all = await client.GetFromJsonAsync<JsonElement>("/schedules", Ct);
        Assert.Equal(
            [("daily-report", "api"), ("nightly", "configuration")],
            all.EnumerateArray().Select(s => (s.GetProperty("name").GetString(), s.GetProperty("source").GetString())));

        using var replaced = await client.PutAsync("/schedules/daily-report", Json("""{"queue": "demo", "cron": "0 8 * * *", "timeZone": "UTC", "enabled": false}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var one = await client.GetFromJsonAsync<JsonElement>("/schedules/daily-report", Ct);
        Assert.Equal(("demo", false, JsonValueKind.Null), (one.GetProperty("queue").GetString(), one.GetProperty("enabled").GetBoolean(), one.GetProperty("nextRunAt").ValueKind));
    }

    [Theory]
    [InlineData("""{"queue": "default", "cron": "0 7 * *"}""", "cron: '0 7 * *' has 4 fields")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * * * *"}""", "cron: '0 7 * * * * *' has 7 fields")]
    [InlineData("""{"queue": "default", "cron": "99 * * * *"}""", "cron: '99 * * * *' is not a valid cron expression")]
    [InlineData("""{"queue": "default"}""", "cron: is required")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "timeZone": "Mars/Olympus"}""", "timeZone: 'Mars/Olympus' is not a time zone")]
    [InlineData("""{"queue": "nope", "cron": "0 7 * * *"}""", "queue: there is no queue named 'nope'; configured queues: default, demo.")]
    [InlineData("""{"cron": "0 7 * * *"}""", "queue: is required")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "priority": 10}""", "priority: 10 is not from 0 to 9.")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "priority": "high"}""", "priority: must be an integer")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "misfire": "always"}""", "misfire: must be \"runOnce\"")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "misfire": 1}""", "misfire: must be \"runOnce\"")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "misfire": "1"}""", "misfire: must be \"runOnce\"")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "enabled": "yes"}""", "enabled: must be true or false.")]
    [InlineData("""{"queue": "default", "cron": 7}""", "cron: must be a string (got 7).")]
    [InlineData("""{"queue": "default", "cron": "0 7 * * *", "tz": "UTC"}""", "tz: is not a field of a schedule")]
    [InlineData("""["default", "0 7 * * *"]""", "body: must be a JSON object")]
    public async Task APutWithABadFieldReturns400NamingItAndSavesNothing(string body, string expected)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PutAsync("/schedules/s1", Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await BodyAsync(response);
        Assert.Equal("Invalid schedule", problem.GetProperty("title").GetString());
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var after = await client.GetAsync("/schedules/s1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Theory]
    [InlineData("text/plain", "{}", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json", "{\"queue\": ", HttpStatusCode.BadRequest)]
    [InlineData("application/json", "", HttpStatusCode.BadRequest)]
    public async Task APutThatIsNotAJsonBodyReturnsAProblem(string contentType, string body, HttpStatusCode status)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PutAsync("/schedules/s1", new StringContent(body, Encoding.UTF8, contentType), Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AConfiguredScheduleIsReadOnlyOverTheApiButCanBeTriggered()
    {
        await using var app = new QueueApiApplication(Configured);
        using var client = app.CreateClient();

        using var put = await client.PutAsync("/schedules/nightly", Json("""{"queue": "default", "cron": "* * * * *"}"""), Ct);
        using var delete = await client.DeleteAsync("/schedules/nightly", Ct);

        foreach (var refused in new[] { put, delete })
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("QueueApi:Schedules:nightly", (await BodyAsync(refused)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var trigger = await client.PostAsync("/schedules/nightly/trigger", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        var id = (await BodyAsync(trigger)).GetProperty("messageId").GetString();
        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(trigger.Headers.Location, Ct),
            m => m.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(10),
            "the triggered message to succeed");
        Assert.Equal("""{"job": "nightly"}""", message.GetProperty("payload").GetRawText());
        var view = await client.GetFromJsonAsync<JsonElement>("/schedules/nightly", Ct);
        Assert.Equal(id, view.GetProperty("lastMessageId").GetString());
        Assert.Equal("0 3 * * *", view.GetProperty("cron").GetString());
    }

    [Fact]
    public async Task DeletingAScheduleRemovesItAndUnknownNamesAre404Problems()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        (await client.PutAsync("/schedules/s1", Json("""{"queue": "default", "cron": "0 0 1 1 *"}"""), Ct)).EnsureSuccessStatusCode();

        using var deleted = await client.DeleteAsync("/schedules/s1", Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        foreach (var (method, path) in new[] { (HttpMethod.Get, "/schedules/s1"), (HttpMethod.Delete, "/schedules/s1"), (HttpMethod.Post, "/schedules/s1/trigger") })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, path), Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("Unknown schedule", (await BodyAsync(response)).GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task AScheduleEverySecondEnqueuesMessagesThatRunWithItsPriority()
    {
        await using var app = QueueApiApplication.OnMemory();
        using var client = app.CreateClient();

        (await client.PutAsync("/schedules/tick", Json("""{"queue": "default", "cron": "* * * * * *", "payload": {"tick": true}, "priority": 8}"""), Ct)).EnsureSuccessStatusCode();

        var view = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>("/schedules/tick", Ct),
            s => s.GetProperty("lastMessageId").ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(10),
            "the schedule's first run");
        var occurrence = view.GetProperty("lastOccurrence").GetDateTimeOffset();
        Assert.Equal(0, occurrence.Millisecond);
        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>($"/queues/default/messages/{view.GetProperty("lastMessageId").GetString()}", Ct),
            m => m.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(10),
            "the scheduled message to succeed");
        Assert.Equal(8, message.GetProperty("priority").GetInt32());
        Assert.Equal("""{"tick": true}""", message.GetProperty("payload").GetRawText());
    }

    [Fact]
    public async Task APrioritisedScheduleOnAStoreWithoutPrioritiesIs501AndNotSaved()
    {
        // Memory and SQLite keep priorities: the test store that declares no features stands in.
        await using var app = new QueueApiApplication(services: s => s.AddSingleton<Engine.Storage.IMessageStorage>(new FailingStorage()));
        using var client = app.CreateClient();

        using var response = await client.PutAsync("/schedules/s1", Json("""{"queue": "default", "cron": "0 7 * * *", "priority": 9}"""), Ct);

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        using var after = await client.GetAsync("/schedules/s1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task OnSqliteAScheduleAndItsLastRunSurviveARestart()
    {
        var folder = Directory.CreateTempSubdirectory("queueapi-schedules-").FullName;
        var settings = new Dictionary<string, string?> { ["QueueApi:Storage:Provider"] = "Sqlite", ["QueueApi:Storage:Path"] = Path.Combine(folder, "queueapi.db") };
        try
        {
            string? id;
            await using (var first = new QueueApiApplication(settings))
            {
                using var client = first.CreateClient();
                (await client.PutAsync("/schedules/kept", Json("""{"queue": "default", "cron": "0 0 1 1 *", "misfire": "skip"}"""), Ct)).EnsureSuccessStatusCode();
                using var trigger = await client.PostAsync("/schedules/kept/trigger", null, Ct);
                id = (await BodyAsync(trigger)).GetProperty("messageId").GetString();
            }

            await using var second = new QueueApiApplication(settings);
            using var again = second.CreateClient();
            var view = await again.GetFromJsonAsync<JsonElement>("/schedules/kept", Ct);
            Assert.Equal(("api", "skip", id), (view.GetProperty("source").GetString(), view.GetProperty("misfire").GetString(), view.GetProperty("lastMessageId").GetString()));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ScheduleActionsNeedTheAdminKeyOutsideDevelopment()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:AdminApiKey"] = "secret" }, environment: "Production");
        using var client = app.CreateClient();

        using var put = await client.PutAsync("/schedules/s1", Json("""{"queue": "default", "cron": "0 0 1 1 *"}"""), Ct);
        using var trigger = await client.PostAsync("/schedules/s1/trigger", null, Ct);
        using var delete = await client.DeleteAsync("/schedules/s1", Ct);
        using var list = await client.GetAsync("/schedules", Ct);

        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK],
            new[] { put, trigger, delete, list }.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task TheOpenApiDocumentHasTheScheduleRoutesWithExamples()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);

        var paths = doc.GetProperty("paths");
        var one = paths.GetProperty("/schedules/{name}");
        Assert.True(one.TryGetProperty("get", out _) && one.TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/schedules").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/schedules/{name}/trigger").TryGetProperty("post", out _));
        var example = one.GetProperty("put").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal("0 7 * * 1-5", example.GetProperty("cron").GetString());
        Assert.True(one.GetProperty("put").GetProperty("responses").TryGetProperty("409", out _));
    }
}
