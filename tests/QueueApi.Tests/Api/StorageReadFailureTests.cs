using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine.Storage;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>A read that finds the store away answers 503 with Retry-After and a problem, never a 500.</summary>
public sealed class StorageReadFailureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AMessageReadWhileTheStoreIsAwayAnswers503WithTheConfiguredRetryAfter()
    {
        var storage = new FailingStorage();
        await using var app = new QueueApiApplication(
            new Dictionary<string, string?> { ["QueueApi:Api:RetryAfterSeconds"] = "7" },
            services: s => s.AddSingleton<IMessageStorage>(storage));
        using var client = app.CreateClient();
        storage.ReadsFailing = true;

        using var response = await client.GetAsync("/queues/default/messages/01a20e8faf5b72277968", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal("Storage unavailable", problem.GetProperty("title").GetString());
        Assert.StartsWith("The message store cannot be reached, so this could not be read or changed. Retry after 7 s;", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Back again: the same read answers as usual (here: no such message).
        storage.ReadsFailing = false;
        using var again = await client.GetAsync("/queues/default/messages/01a20e8faf5b72277968", Ct);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }
}
