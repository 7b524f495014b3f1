using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine.Storage;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class StorageApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task AStorageFaultAtEnqueueAnswers503WithRetryAfterAndAProblemAndReadinessSaysWhy()
    {
        var storage = new FailingStorage();
        await using var app = new QueueApiApplication(services: s => s.AddSingleton<IMessageStorage>(storage));
        using var client = app.CreateClient();
        storage.Failing = true;

        using var single = await client.PostAsync("/queues/default/messages", Json("{}"), Ct);
        using var batch = await client.PostAsync("/queues/default/messages/batch", Json("[{}, {}]"), Ct);
        using var ready = await client.GetAsync("/health/ready", Ct);

        foreach (var response in new[] { single, batch })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal("Storage unavailable", problem.GetProperty("title").GetString());
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("disk full (simulated)", await ready.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/queues/default", Ct)).GetProperty("counts").GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task TheServiceKeepsItsMessagesInTheSqliteFileByDefaultAndHealthNamesIt()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var posted = await client.PostAsync("/queues/default/messages", Json("{}"), Ct);
        var health = await client.GetStringAsync("/health", Ct);

        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal("Sqlite", app.Services.GetRequiredService<IMessageStorage>().Provider);
        Assert.Contains(app.DatabasePath, health, StringComparison.Ordinal);
        Assert.True(File.Exists(app.DatabasePath));
    }

    [Fact]
    public async Task TheMemoryProviderKeepsNothingOnDisk()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Storage:Provider"] = "Memory" });
        using var client = app.CreateClient();

        using var posted = await client.PostAsync("/queues/default/messages", Json("{}"), Ct);

        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.False(app.Services.GetRequiredService<IMessageStorage>().IsDurable);
        Assert.False(File.Exists(app.DatabasePath));
    }

    [Theory]
    [InlineData("QueueApi:Storage:Provider", "Oracle", null)] // Postgres is known since issue 13
    [InlineData("QueueApi:Storage:Synchronous", null, "Sometimes")]
    public void AnUnknownStorageSettingFailsValidationNamingTheKey(string key, string? provider, string? synchronous)
    {
        // As HostLifetimeTests explains, the validator is checked directly; Program turns its failure into exit 2.
        var options = new QueueApi.Storage.StorageOptions();
        options.Provider = provider ?? options.Provider;
        options.Synchronous = synchronous ?? options.Synchronous;

        var result = new QueueApi.Storage.StorageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(key, StringComparison.Ordinal));
    }
}
