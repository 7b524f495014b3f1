using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// Liveness reads the workers itself, not only the supervisor's record: a worker stuck past its limit is 503
/// before the supervisor's next look has recorded it.
/// </summary>
public sealed class LivenessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HungWorkerTurnsLivenessTo503OnceItIsPastItsLimitAndGrace()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new QueueApiApplication(
            new Dictionary<string, string?>
            {
                // Long limits: the supervisor sleeps (in real time) until the shortest of them, so within this
                // test only the probe's own look at the workers can see the stuck one.
                ["QueueApi:Queues:default:AttemptTimeout"] = "00:10:00",
                ["QueueApi:Queues:default:StuckGrace"] = "00:00:05",
                ["QueueApi:Queues:demo:AttemptTimeout"] = "00:10:00",
                ["QueueApi:Shutdown:DrainTimeout"] = "00:00:01",
                ["QueueApi:Shutdown:CancelGrace"] = "00:00:01",
                ["QueueApi:Shutdown:JoinTimeout"] = "00:00:01",
            },
            holdHostOnStop: true,
            services: s => s.AddSingleton<TimeProvider>(time));
        using var client = app.CreateClient();

        using var hung = await client.PostAsync("/workers/default-1/hang", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, hung.StatusCode);
        await Eventually.WaitAsync(
            async () => await client.GetStringAsync("/workers/default-1", Ct),
            w => w.Contains("\"state\":\"busy\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the worker to start hanging");

        // Within its limit and grace a busy worker is live.
        time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(4));
        using (var live = await client.GetAsync("/health/live", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(2));
        using var stuck = await client.GetAsync("/health/live", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.StatusCode);
        Assert.Contains("worker default-1 is stuck on a hang past its time limit", await stuck.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // The stop at dispose keeps its deadlines on this clock: let every read of it move on, so the stop meets
        // them at once instead of waiting out the host's shutdown timeout.
        time.AutoAdvanceAmount = TimeSpan.FromSeconds(1);
    }
}
