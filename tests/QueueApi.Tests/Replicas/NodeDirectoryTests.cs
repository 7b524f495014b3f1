using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using QueueApi.Dashboard;
using QueueApi.Storage.Postgres;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Replicas;

/// <summary>
/// What /nodes, the health report and the dashboard make of a shared store's node directory, in memory: the
/// directory is a stand-in, so a slow or failing database is a setting, not a cluster to break.
/// </summary>
public sealed class NodeDirectoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset Seen = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static NodeInfo Node(string id, bool alive = true, bool self = false, DateTimeOffset? stoppedAt = null) =>
        new(id, $"host-{id}", 40 + id.Length, Seen.AddMinutes(-5), Seen, stoppedAt, alive, self, [$"{id}-w1", $"{id}-w2"]);

    private static QueueApiApplication App(INodeDirectory directory) =>
        new(new Dictionary<string, string?> { ["QueueApi:Api:RetryAfterSeconds"] = "4" }, services: s => s.AddSingleton(directory));

    [Fact]
    public async Task NodesListsEveryReplicaTheDirectoryKnows()
    {
        var directory = new StandInDirectory { Nodes = [Node("a", self: true), Node("bb", alive: false)] };
        await using var app = App(directory);
        using var client = app.CreateClient();

        var nodes = await client.GetFromJsonAsync<JsonElement>("/nodes", Ct);
        var health = await client.GetFromJsonAsync<JsonElement>("/health", Ct);

        Assert.Equal(["a", "bb"], nodes.EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        Assert.False(nodes[1].GetProperty("alive").GetBoolean());
        Assert.Equal(["a", "bb"], health.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("timeout")]
    [InlineData("cancelled")]
    [InlineData("hangs")]
    public async Task ADirectoryThatCannotAnswerMakesNodes503WithRetryAfterAndTheHealthReportLeavesNodesOut(string failure)
    {
        var directory = new StandInDirectory { Failure = failure };
        await using var app = App(directory);
        using var client = app.CreateClient();

        using var nodes = await client.GetAsync("/nodes", Ct);
        var health = await client.GetFromJsonAsync<JsonElement>("/health", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, nodes.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(4), nodes.Headers.RetryAfter?.Delta);
        var problem = await nodes.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Storage unavailable", problem.GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Null, health.GetProperty("nodes").ValueKind);
    }

    [Fact]
    public async Task TheDashboardsReplicaSourceKeepsTheLastListWhenTheDatabaseIsAway()
    {
        var directory = new StandInDirectory { Nodes = [Node("a", self: true), Node("bb", alive: false), Node("c", stoppedAt: Seen)] };
        var source = new NodeReplicaSource(directory, TimeProvider.System);
        Assert.Empty(source.Replicas());

        await source.RefreshAsync(Ct);
        var first = source.Replicas();
        directory.Failure = "timeout";
        await source.RefreshAsync(Ct);
        directory.Failure = "hangs";
        await source.RefreshAsync(Ct);

        Assert.Same(first, source.Replicas());
        Assert.Equal(["alive", "dead", "stopped"], first.Select(r => r.State));
        Assert.Equal(new ReplicaView("a", "alive", Seen, "host-a pid 41 (this replica), 2 workers"), first[0]);
        Assert.Equal("host-bb pid 42, 2 workers", first[1].Detail);
    }

    [Fact]
    public async Task TheReplicaSourceStopsWhenItsOwnTokenIsCancelledInsteadOfKeepingTheList()
    {
        var directory = new StandInDirectory { Failure = "hangs" };
        var source = new NodeReplicaSource(directory, TimeProvider.System);
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.RefreshAsync(stopping.Token));
    }

    /// <summary>A node directory that answers a list, or fails the way a database away does.</summary>
    private sealed class StandInDirectory : INodeDirectory
    {
        public IReadOnlyList<NodeInfo> Nodes { get; init; } = [];

        public volatile string? Failure;

        public async Task<IReadOnlyList<NodeInfo>> NodesAsync(CancellationToken cancellationToken)
        {
            switch (Failure)
            {
                case "timeout":
                    throw new TimeoutException("the database did not answer (stand-in)");
                case "cancelled":
                    throw new OperationCanceledException("the command was cancelled (stand-in)");
                case "hangs":
                    // Until the caller's own bound gives up: the callers promise to wait no longer than that.
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                    break;
            }

            return Nodes;
        }
    }
}
