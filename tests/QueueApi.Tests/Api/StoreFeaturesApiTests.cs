using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine.Storage;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// On a store that does not declare a feature (<see cref="IMessageStorage.Features"/>; Memory and SQLite declare
/// all, so a test store that declares none stands in), the API says so instead of half-keeping it.
/// </summary>
public sealed class StoreFeaturesApiTests
{
    [Theory]
    [InlineData("/queues/default/messages?delay=60", null, "Delayed delivery", "Send it without delay and notBefore.")]
    [InlineData("/queues/default/messages", "k-1", "Idempotent enqueue", "Send it without the Idempotency-Key header.")]
    [InlineData("/queues/default/messages/batch?delay=60", null, "Delayed delivery", "Send it without delay and notBefore.")]
    [InlineData("/queues/default/messages?priority=9", null, "Priorities", "Send it without the priority parameter.")]
    [InlineData("/queues/default/messages/batch?priority=0", null, "Priorities", "Send it without the priority parameter.")]
    public async Task OnAStoreWithoutTheFeatureADelayAKeyOrAPriorityAnswers501AndStoresNothing(string path, string? key, string feature, string whatToDo)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = WithoutFeatures();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(path.Contains("batch", StringComparison.Ordinal) ? "[{}]" : "{}", Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        using var response = await client.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Not supported by this storage", problem.GetProperty("title").GetString());
        Assert.StartsWith($"{feature}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Failing", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(whatToDo, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var queue = await client.GetFromJsonAsync<JsonElement>("/queues/default", ct);
        Assert.Equal(0, queue.GetProperty("counts").GetProperty("accepted").GetInt64());
    }

    [Fact]
    public async Task OnAStoreWithoutTheFeatureCancellingAnswers501()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = WithoutFeatures();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync("/queues/default/messages/00000000000000000000", ct);

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("detail").GetString();
        Assert.StartsWith("Cancelling a message", detail, StringComparison.Ordinal);
        Assert.Contains("The message runs as queued.", detail, StringComparison.Ordinal);
    }

    /// <summary>The test store that declares no features (its provider is named "Failing"; it does not fail unless told).</summary>
    private static QueueApiApplication WithoutFeatures()
    {
        var storage = new FailingStorage();
        Assert.Equal(StoreFeatures.None, ((IMessageStorage)storage).Features);
        return new QueueApiApplication(services: s => s.AddSingleton<IMessageStorage>(storage));
    }
}
