using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// A hung worker turns liveness to 503 once it is past its time limit and grace, and not before (on a fake clock,
/// so the test takes no wall time).
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
        try
        {
            using var hung = await client.PostAsync("/workers/default-1/hang", null, Ct);
            Assert.Equal(HttpStatusCode.Accepted, hung.StatusCode);
            await Eventually.WaitAsync(
                async () => await client.GetStringAsync("/workers/default-1", Ct),
                w => w.Contains("\"state\":\"busy\"", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "the worker to start hanging");

            // Past its limit but within its grace a busy worker is live.
            time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(4));
            using (var live = await client.GetAsync("/health/live", Ct))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            time.Advance(TimeSpan.FromSeconds(2));
            using var stuck = await client.GetAsync("/health/live", Ct);

            // Either liveness's own look or the supervisor's record (its next look is due at this very time) says so;
            // EngineHealthTests pins the first one alone.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.StatusCode);
            var why = await stuck.Content.ReadAsStringAsync(Ct);
            Assert.Contains("worker default-1", why, StringComparison.Ordinal);
            Assert.Contains("stuck", why, StringComparison.Ordinal);
        }
        finally
        {
            // The stop at dispose keeps its deadlines on this clock: let every read of it move on, so the stop
            // meets them at once instead of waiting out the host's shutdown timeout (pass or fail).
            time.AutoAdvanceAmount = TimeSpan.FromSeconds(1);
        }
    }
}
