using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Engine;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>Requests that are not understood are refused with a problem, and nothing runs.</summary>
public sealed class BadInputTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ByteArrayContent JsonBytes(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem.GetProperty("detail").GetString()!;
    }

    [Theory]
    [InlineData("""{"mode": 42}""", "42")]
    [InlineData("""{"mode": "1"}""", "\"1\"")]
    [InlineData("""{"mode": "0"}""", "\"0\"")]
    [InlineData("""{"mode": -1}""", "-1")]
    [InlineData("""{"mode": " drain"}""", "\" drain\"")]
    [InlineData("""{"mode": "drain,immediate"}""", "\"drain,immediate\"")]
    [InlineData("""{"mode": "later"}""", "\"later\"")]
    [InlineData("""{"mode": true}""", "true")]
    [InlineData("""{"mode": ["drain"]}""", "[\"drain\"]")]
    public async Task ShutdownWithAModeThatIsNotADocumentedNameAnswers400NamingTheValueAndTheAllowedNamesAndDoesNotStop(string body, string value)
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/shutdown", JsonBytes(Encoding.UTF8.GetBytes(body)), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = await DetailAsync(response);
        Assert.Contains("'mode'", detail, StringComparison.Ordinal);
        Assert.Contains($"value {value},", detail, StringComparison.Ordinal);
        Assert.Contains("Allowed values: \"drain\", \"immediate\"", detail, StringComparison.Ordinal);
        await AssertStillRunningAsync(app, client);
    }

    [Theory]
    [InlineData("""{"mood": "drain"}""", "Unknown field 'mood'")]
    [InlineData("""{"mode": "drain", "mode": "immediate"}""", "more than once")]
    [InlineData("""["drain"]""", "must be a JSON object, not an array")]
    [InlineData("\"drain\"", "must be a JSON object, not a string")]
    [InlineData("null", "must be a JSON object, not null")]
    public async Task ShutdownWithABodyThatIsNotAShutdownRequestAnswers400AndDoesNotStop(string body, string expected)
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/shutdown", JsonBytes(Encoding.UTF8.GetBytes(body)), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await DetailAsync(response), StringComparison.Ordinal);
        await AssertStillRunningAsync(app, client);
    }

    [Theory]
    [InlineData("DRAIN", "drain")]
    [InlineData("Immediate", "immediate")]
    public async Task ShutdownModeNamesAreReadInAnyCasing(string mode, string expected)
    {
        await using var app = new QueueApiApplication(holdHostOnStop: true);
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/shutdown", JsonBytes(Encoding.UTF8.GetBytes($$"""{"mode": "{{mode}}"}""")), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(expected, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("mode").GetString());
        await app.Lifetime.StopRequested.WaitAsync(TimeSpan.FromSeconds(5), Ct);
    }

    public static TheoryData<string, byte[]> NotUtf8 => new()
    {
        { "lone continuation byte in a string", [.. "{\"a\": \""u8, 0x80, .. "\"}"u8] },
        { "Latin-1 e-acute", [.. "{\"name\": \"caf"u8, 0xE9, .. "\"}"u8] },
        { "truncated 3-byte sequence", [.. "{\"a\": \""u8, 0xE2, 0x82, .. "\"}"u8] },
        { "overlong encoding of '/'", [.. "{\"a\": \""u8, 0xC0, 0xAF, .. "\"}"u8] },
        { "UTF-16 surrogate encoded in UTF-8", [.. "{\"a\": \""u8, 0xED, 0xA0, 0x80, .. "\"}"u8] },
        { "0xFF byte", [.. "{\"a\": \""u8, 0xFF, .. "\"}"u8] },
        { "invalid byte in a property name", [.. "{\""u8, 0xFE, .. "\": 1}"u8] },
    };

    [Theory]
    [MemberData(nameof(NotUtf8))]
    public async Task AMessageThatIsNotUtf8IsRefusedWith400AndNotQueued(string why, byte[] body)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var single = await client.PostAsync("/queues/default/messages", JsonBytes(body), Ct);
        using var batch = await client.PostAsync("/queues/default/messages/batch", JsonBytes([.. "[{\"ok\": 1}, "u8, .. body, .. "]"u8]), Ct);

        Assert.True(single.StatusCode == HttpStatusCode.BadRequest, why);
        Assert.Contains("not valid UTF-8", await DetailAsync(single), StringComparison.Ordinal);
        Assert.True(batch.StatusCode == HttpStatusCode.BadRequest, why);
        Assert.Contains("not valid UTF-8", await DetailAsync(batch), StringComparison.Ordinal);
        Assert.Equal(0, app.Services.GetRequiredService<QueueEngine>().Queues.Single(q => q.Name == "default").Counts().Accepted);
    }

    [Fact]
    public async Task ABodyWithAByteOrderMarkIsRefusedWith400SayingToDropIt()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var single = await client.PostAsync("/queues/default/messages", JsonBytes([0xEF, 0xBB, 0xBF, .. "{\"a\": 1}"u8]), Ct);
        using var batch = await client.PostAsync("/queues/default/messages/batch", JsonBytes([0xEF, 0xBB, 0xBF, .. "[{\"a\": 1}]"u8]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.Contains("byte order mark", await DetailAsync(single), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains("byte order mark", await DetailAsync(batch), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMessageInValidUtf8BeyondAsciiIsKeptByteForByte()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var body = Encoding.UTF8.GetBytes("""{"greeting": "grüße, 你好, 😀", "escaped": "\u00e9"}""");

        using var response = await client.PostAsync("/queues/default/messages", JsonBytes(body), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        var queue = app.Services.GetRequiredService<QueueEngine>().Queues.Single(q => q.Name == "default");
        Assert.True(queue.TryGetMessage(id, out var message));
        Assert.Equal(body, message!.Payload);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("99999999999999")]
    [InlineData("1.5")]
    public async Task ADeadLetterLimitThatIsNotAWholeNumberAnswers400NamingTheParameter(string limit)
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"/queues/default/dead-letters?limit={limit}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = await DetailAsync(response);
        Assert.Contains("limit", detail, StringComparison.Ordinal);
        Assert.Contains(limit, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsAnswerOnlyGet()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var put = await client.PutAsync("/metrics", JsonBytes("{}"u8.ToArray()), Ct);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        await DetailAsync(put);
    }

    private static async Task AssertStillRunningAsync(QueueApiApplication app, HttpClient client)
    {
        Assert.False(app.Lifetime.StopRequested.IsCompleted, "a refused shutdown request asked the host to stop");
        Assert.True(app.Services.GetRequiredService<QueueEngine>().IsReady(out var why), why);
        using var accepted = await client.PostAsync("/queues/default/messages", JsonBytes("{}"u8.ToArray()), Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }
}
