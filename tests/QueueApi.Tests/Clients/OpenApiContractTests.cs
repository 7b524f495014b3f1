using System.Net.Http.Json;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>
/// The queue operations' published contract: client generators name methods after each operationId, and Swagger UI
/// shows each summary, so a renamed or emptied one breaks or blanks clients without any other test noticing.
/// </summary>
public sealed class OpenApiContractTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string, string> QueueOperations => new()
    {
        { "post", "/queues/{queue}/messages", "EnqueueMessage", "Enqueue one message; the JSON body is the payload" },
        { "post", "/queues/{queue}/messages/batch", "EnqueueBatch", "Enqueue a JSON array of payloads, all or none" },
        { "get", "/queues/{queue}/messages/{id}", "GetMessage", "One message's status, attempts, times and payload" },
        { "delete", "/queues/{queue}/messages/{id}", "CancelMessage", "Cancel a queued or scheduled message; it is counted as dropped, reason \"cancelled\"" },
        { "get", "/queues", "ListQueues", "Every queue: depth, capacity, workers, counts and circuit state" },
        { "get", "/queues/{queue}", "GetQueue", "One queue: depth, capacity, workers, counts and circuit state" },
        { "post", "/queues/{queue}/pause", "PauseQueue", "Pause a queue: it keeps accepting messages, its workers take none" },
        { "post", "/queues/{queue}/resume", "ResumeQueue", "Resume a paused queue" },
        { "get", "/queues/{queue}/dead-letters", "ListDeadLetters", "Messages that exhausted their attempts, oldest first" },
        { "post", "/queues/{queue}/dead-letters/{id}/requeue", "RequeueDeadLetter", "Put a dead letter back in its queue with fresh attempts" },
        { "delete", "/queues/{queue}/dead-letters/{id}", "DeleteDeadLetter", "Delete a dead letter; it is counted as dropped" },
        { "post", "/queues/pause-all", "PauseAllQueues", "Freeze everything: pause every queue (they keep accepting; their workers take nothing new)" },
        { "post", "/queues/resume-all", "ResumeAllQueues", "Resume every queue" },
    };

    [Theory]
    [MemberData(nameof(QueueOperations))]
    public async Task EachQueueOperationKeepsItsOperationIdAndSummary(string method, string path, string operationId, string summary)
    {
        var operation = (await Document()).GetProperty("paths").GetProperty(path).GetProperty(method);

        Assert.Equal(operationId, operation.GetProperty("operationId").GetString());
        Assert.Equal(summary, operation.GetProperty("summary").GetString());
        Assert.Equal(["Queues"], operation.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Theory]
    [InlineData("/queues/{queue}/messages")]
    [InlineData("/queues/{queue}/messages/batch")]
    public async Task TheEnqueueOperationsTakeJson(string path)
    {
        var body = (await Document()).GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("requestBody").GetProperty("content");

        Assert.Equal(["application/json"], body.EnumerateObject().Select(c => c.Name));
    }

    private static async Task<JsonElement> Document()
    {
        await using var app = QueueApiApplication.OnMemory();
        using var client = app.CreateClient();
        return await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);
    }
}
