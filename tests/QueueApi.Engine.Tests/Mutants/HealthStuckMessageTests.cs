using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A worker stuck on a message is reported with that message's id, so the operator knows which payload hangs the handler.</summary>
public sealed class HealthStuckMessageTests
{
    [Fact]
    public void AWorkerStuckOnAMessageNamesTheMessage()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var q = new QueueOptions { Workers = 1, Handler = "test", AttemptTimeout = TimeSpan.FromSeconds(5), StuckGrace = TimeSpan.FromSeconds(1) };
        // Not started, so the supervisor never looks first (as in StuckLivenessTests): only liveness's own check can see it.
        using var engine = new QueueEngine(
            Options.Create(new QueueApiOptions { Queues = { ["q"] = q } }), _ => DelegateHandler.Ok(), time, NullLogger<QueueEngine>.Instance);
        var worker = Assert.Single(engine.Workers);
        var message = new QueueMessage(new MessageKey(0xabc, 7), "q", TestEngine.Json("{}"), time.GetUtcNow());

        // What a worker does when it takes a message and starts its attempt (the field is the worker's own, set on its thread).
        typeof(Worker).GetField("_current", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(worker, message);
        worker.Deadline.Arm(time.GetTimestamp(), q.AttemptTimeout);
        time.Advance(TimeSpan.FromSeconds(7));

        Assert.False(engine.IsLive(out var why));
        Assert.Equal($"worker {worker.Id} is stuck on message {message.Id} past its time limit", why);
    }
}
