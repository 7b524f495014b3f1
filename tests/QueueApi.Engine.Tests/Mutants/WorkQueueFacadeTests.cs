using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>What a queue's facade answers and stamps: circuit views, new messages and batches, and pause/resume of its gate.</summary>
public sealed class WorkQueueFacadeTests
{
    private static WorkQueue QueueOf(QueueEngine engine) => engine.Queues.Single();

    [Fact]
    public void ADisabledCircuitShowsDisabled()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.CircuitBreaker.Enabled = false);

        Assert.Equal("disabled", QueueOf(engine).CircuitState);
        Assert.Null(QueueOf(engine).CircuitOpenUntil);
    }

    [Fact]
    public void AnOpenCircuitPastItsBreakShowsHalfOpenWithoutAnOpenUntil()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q =>
        {
            q.CircuitBreaker.MinimumThroughput = 2;
            q.CircuitBreaker.FailureRatio = 0.5;
            q.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        }, time: time);
        var queue = QueueOf(engine);
        var now = time.GetUtcNow();

        queue.Runtime.Breaker.OnFailure(now.UtcTicks, probe: false);
        queue.Runtime.Breaker.OnFailure(now.UtcTicks, probe: false);
        Assert.Equal("open", queue.CircuitState);
        Assert.Equal(now + TimeSpan.FromSeconds(30), queue.CircuitOpenUntil);

        // Past the break the breaker still holds "open" until a probe enters, but it shows half-open and no longer an end.
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal("halfOpen", queue.CircuitState);
        Assert.Null(queue.CircuitOpenUntil);
    }

    [Fact]
    public void ANewMessageRejectsAPriorityAboveTheMaximum()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => QueueOf(engine).NewMessage(TestEngine.Json("{}"), priority: MessagePriority.Max + 1));
        Assert.Equal("priority", ex.ParamName);
    }

    [Fact]
    public void ANewMessageCarriesItsIdempotencyKeyAndTheBodysHashOnlyWhenGivenOne()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        var body = TestEngine.Json("{\"a\":1}");

        var keyed = QueueOf(engine).NewMessage(body, idempotencyKey: "k-1");
        var plain = QueueOf(engine).NewMessage(body);

        Assert.Equal("k-1", keyed.IdempotencyKey);
        Assert.Equal(WorkQueue.RequestHash(body), keyed.RequestHash);
        Assert.Null(plain.IdempotencyKey);
        Assert.Null(plain.RequestHash);
    }

    [Fact]
    public void ANewBatchRejectsNullPayloadsAndAPriorityAboveTheMaximum()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        Assert.Throws<ArgumentNullException>("payloads", () => QueueOf(engine).NewBatch(null!));
        Assert.Throws<ArgumentOutOfRangeException>("priority", () => QueueOf(engine).NewBatch([TestEngine.Json("{}")], priority: MessagePriority.Max + 1));
    }

    [Fact]
    public void EveryMessageOfANewBatchCarriesTheTraceDueTimePriorityAndItsOwnKey()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        var due = DateTimeOffset.UtcNow.AddMinutes(5);
        const string trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        byte[][] bodies = [TestEngine.Json("{\"i\":0}"), TestEngine.Json("{\"i\":1}")];

        var batch = QueueOf(engine).NewBatch(bodies, trace, due, ["k-0", null], priority: 7);

        Assert.All(batch, m =>
        {
            Assert.Equal(trace, m.TraceParent);
            Assert.Equal(due, m.DueAt);
            Assert.Equal(7, m.Priority);
        });
        Assert.Equal("k-0", batch[0].IdempotencyKey);
        Assert.Equal(WorkQueue.RequestHash(bodies[0]), batch[0].RequestHash);
        Assert.Null(batch[1].IdempotencyKey);
    }

    [Fact]
    public void ResumeOpensTheWorkersGateAtOnce()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());
        var queue = QueueOf(engine);

        queue.Pause();
        Assert.True(queue.Runtime.Pause.IsPaused);

        // Not left for the workers' once-a-second recheck of the stored flag: the gate itself opens.
        queue.Resume();
        Assert.False(queue.Runtime.Pause.IsPaused);
    }
}
