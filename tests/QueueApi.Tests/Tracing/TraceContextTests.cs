using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using QueueApi.Engine.Diagnostics;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Tracing;

public sealed class TraceContextTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ATraceparentOnThePostContinuesIntoTheHandlersSpanAndTheMessageShowsItsTraceId()
    {
        var ct = TestContext.Current.CancellationToken;
        var spans = new List<Activity>();
        await using var app = new QueueApiApplication(
            new Dictionary<string, string?> { ["QueueApi:Queues:demo:MaxAttempts"] = "2" },
            services: services => services.AddOpenTelemetry().WithTracing(t => t.AddSource(MessageTracing.SourceName).AddInMemoryExporter(spans)));
        using var client = app.CreateClient();
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var post = new HttpRequestMessage(HttpMethod.Post, "/queues/demo/messages")
        {
            // Fails its first attempt, so two attempts, two spans, both in the caller's trace.
            Content = new StringContent("""{"failAttempts": 1}""", Encoding.UTF8, "application/json"),
        };
        post.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");

        using var response = await client.SendAsync(post, ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var message = await Eventually.WaitAsync(
            () => client.GetFromJsonAsync<JsonElement>(response.Headers.Location, ct),
            m => m.GetProperty("status").GetString() == "succeeded",
            Wait,
            "the message to succeed");
        var id = message.GetProperty("id").GetString();
        Assert.Equal(traceId.ToHexString(), message.GetProperty("traceId").GetString());

        await Eventually.WaitAsync(() => { lock (spans) { return spans.Count(s => s.TraceId == traceId) == 2; } }, Wait, "two attempt spans");
        Activity[] attempts;
        lock (spans)
        {
            attempts = [.. spans.Where(s => s.TraceId == traceId).OrderBy(s => s.StartTimeUtc)];
        }

        Assert.All(attempts, span =>
        {
            Assert.Equal("process demo", span.DisplayName);
            Assert.Equal(ActivityKind.Consumer, span.Kind);
            Assert.Equal("queueapi", span.GetTagItem("messaging.system"));
            Assert.Equal("process", span.GetTagItem("messaging.operation.type"));
            Assert.Equal("demo", span.GetTagItem("messaging.destination.name"));
            Assert.Equal(id, span.GetTagItem("messaging.message.id"));
            // Parented to the enqueuing request's context, and linked to it as the messaging conventions ask.
            Assert.NotEqual(default, span.ParentSpanId);
            Assert.Equal(traceId, Assert.Single(span.Links).Context.TraceId);
        });
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);
        Assert.Equal(1, attempts[0].GetTagItem("queueapi.attempt"));
        Assert.Equal(2, attempts[1].GetTagItem("queueapi.attempt"));
    }

    [Fact]
    public async Task AnUntracedPostKeepsNoTraceWithTheMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync("/queues/default/messages", new StringContent("{}", Encoding.UTF8, "application/json"), ct);
        var message = await client.GetFromJsonAsync<JsonElement>(response.Headers.Location, ct);

        Assert.Equal(JsonValueKind.Null, message.GetProperty("traceId").ValueKind);
    }
}
