using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// The body-size limits hold while the body streams in, not only against a declared Content-Length: a chunked
/// body has none, so only the reading loop can stop it.
/// </summary>
public sealed class BodyLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static QueueApiApplication App() => new(new Dictionary<string, string?>
    {
        ["QueueApi:Api:MaxMessageBytes"] = "64",
        ["QueueApi:Api:MaxBatchBytes"] = "256",
    });

    [Fact]
    public async Task ChunkedMessageOverTheLimitReturns413AndEnqueuesNothing()
    {
        await using var app = App();
        using var client = Client(app);

        using var response = await client.PostAsync("/queues/default/messages", Chunked($"\"{new string('x', 100)}\""), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit of 64 bytes", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, await AcceptedAsync(client));
    }

    [Fact]
    public async Task ChunkedMessageOfExactlyTheLimitIsAccepted()
    {
        await using var app = App();
        using var client = Client(app);

        using var response = await client.PostAsync("/queues/default/messages", Chunked($"\"{new string('x', 62)}\""), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BatchOverMaxBatchBytesReturns413NamingTheLimit(bool chunked)
    {
        await using var app = App();
        using var client = Client(app);
        var body = Batch(items: 10, itemBytes: 30); // 10 items of 30 bytes: over 256, each under 64.

        using var response = await client.PostAsync("/queues/default/messages/batch", chunked ? Chunked(body) : Sized(body), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit of 256 bytes", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, await AcceptedAsync(client));
    }

    [Fact]
    public async Task ChunkedBatchOverMaxMessageBytesButWithinMaxBatchBytesIsAccepted()
    {
        await using var app = App();
        using var client = Client(app);
        var body = Batch(items: 5, itemBytes: 30); // About 160 bytes: over the single limit, within the batch one.

        using var response = await client.PostAsync("/queues/default/messages/batch", Chunked(body), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(5, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("count").GetInt32());
    }

    /// <summary>
    /// A client without the factory's redirect handler: that handler buffers a request body (to send it again after
    /// a redirect), which gives it a Content-Length and so would never stream it.
    /// </summary>
    private static HttpClient Client(QueueApiApplication app) => app.CreateClient(new() { AllowAutoRedirect = false });

    private static string Batch(int items, int itemBytes) =>
        $"[{string.Join(',', Enumerable.Repeat($"\"{new string('x', itemBytes - 2)}\"", items))}]";

    private static ByteArrayContent Sized(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private static ChunkedContent Chunked(string json) => new(Encoding.UTF8.GetBytes(json));

    private static async Task<long> AcceptedAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/queues/default", Ct)).GetProperty("counts").GetProperty("accepted").GetInt64();

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString()!;
    }
}
