using System.Net.Http.Json;
using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class NodesApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OnALocalStoreNodesListsThisProcessAloneAliveWithItsWorkers()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var nodes = await client.GetFromJsonAsync<JsonElement>("/nodes", Ct);

        var node = Assert.Single(nodes.EnumerateArray());
        Assert.True(node.GetProperty("self").GetBoolean());
        Assert.True(node.GetProperty("alive").GetBoolean());
        Assert.Equal(Environment.ProcessId, node.GetProperty("pid").GetInt32());
        Assert.Contains("default-1", node.GetProperty("workers").EnumerateArray().Select(w => w.GetString()));
    }

    [Fact]
    public async Task TheHealthReportListsTheNodesAndReadinessChecksTheStore()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();

        var health = await client.GetFromJsonAsync<JsonElement>("/health", Ct);

        Assert.Equal(1, health.GetProperty("nodes").GetArrayLength());
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }
}
