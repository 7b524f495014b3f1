using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Tests;

/// <summary>
/// Liveness looks at the workers itself, not only at the supervisor's record: between a worker going past its
/// limit and grace and the supervisor's next look, only that look can say 503. Here the supervisor never runs
/// (the engine is not started), so that window lasts as long as the test needs.
/// </summary>
public sealed class StuckLivenessTests
{
    [Fact]
    public void WorkerPastItsLimitAndGraceIsStuckBeforeTheSupervisorHasLooked()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var q = new QueueOptions { Workers = 1, Handler = "test", AttemptTimeout = TimeSpan.FromSeconds(5), StuckGrace = TimeSpan.FromSeconds(1) };
        using var engine = new QueueEngine(
            Options.Create(new QueueApiOptions { Queues = { ["q"] = q } }), _ => DelegateHandler.Ok(), time, NullLogger<QueueEngine>.Instance);
        var worker = Assert.Single(engine.Workers);

        // What a worker does when an attempt (or a hang) starts.
        worker.Deadline.Arm(time.GetTimestamp(), q.AttemptTimeout);
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(engine.IsLive(out _), "at its limit plus its grace a worker is not yet stuck");

        time.Advance(TimeSpan.FromTicks(1));

        Assert.Null(engine.FirstFailure);
        Assert.False(engine.IsLive(out var why));
        Assert.Equal($"worker {worker.Id} is stuck on a hang past its time limit", why);
    }
}
