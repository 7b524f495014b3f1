using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;

namespace QueueApi.Engine.Tests;

/// <summary>The demo handler does exactly what its payload asks: sleep, fail, fail the first attempts, or fail for good.</summary>
public sealed class DemoHandlerTests
{
    private static readonly FakeTimeProvider Time = new();

    // Chaos off: with it on, {"exit": true} would kill the test process, as it is meant to kill the service.
    private static readonly IOptions<QueueApiOptions> ChaosOff = Options.Create(new QueueApiOptions { Chaos = { Enabled = false } });

    private static ValueTask Handle(string json, int attempt = 1) =>
        new DemoHandler(Time, ChaosOff).HandleAsync(new MessageContext("m-1", "demo", TestEngine.Json(json), attempt, "demo-1"), TestContext.Current.CancellationToken);

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("\"fail\"")]
    [InlineData("""{"other": {"fail": "nested"}, "fail": 3, "permanent": "yes"}""")]
    [InlineData("""{"sleepMs": -5}""")]
    [InlineData("""{"exit": true}""")]
    public async Task PayloadThatAsksForNothingSucceeds(string json)
    {
        await Handle(json);
    }

    [Fact]
    public async Task FailWithATextFailsEveryAttemptWithThatText()
    {
        foreach (var attempt in new[] { 1, 2, 5 })
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Handle("""{"fail": "why"}""", attempt).AsTask());
            Assert.Equal("why", ex.Message);
        }
    }

    [Fact]
    public async Task FailTrueFailsWithAGenericText()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Handle("""{"fail": true}""").AsTask());

        Assert.Equal("demo failure requested", ex.Message);
    }

    [Fact]
    public async Task FailAttemptsFailsOnlyTheFirstOnes()
    {
        var first = await Assert.ThrowsAsync<InvalidOperationException>(() => Handle("""{"failAttempts": 2}""", 1).AsTask());
        var second = await Assert.ThrowsAsync<InvalidOperationException>(() => Handle("""{"failAttempts": 2}""", 2).AsTask());
        await Handle("""{"failAttempts": 2}""", 3);

        Assert.Equal("demo failure on attempt 1 of the first 2", first.Message);
        Assert.Equal("demo failure on attempt 2 of the first 2", second.Message);
    }

    [Fact]
    public async Task PermanentFailureIsNotRetried()
    {
        var ex = await Assert.ThrowsAsync<PermanentMessageException>(() => Handle("""{"fail": "bad data", "permanent": true}""").AsTask());

        Assert.Equal("bad data", ex.Message);
    }

    [Fact]
    public async Task SleepTakesItsTimeOnTheClockAndHonoursCancellation()
    {
        var time = new FakeTimeProvider();
        var handler = new DemoHandler(time, ChaosOff);
        var sleeping = handler.HandleAsync(new MessageContext("m-1", "demo", TestEngine.Json("""{"sleepMs": 1000}"""), 1, "demo-1"), CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(sleeping.IsCompleted, "finished before its time");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await sleeping.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);

        using var cts = new CancellationTokenSource();
        var cancelled = handler.HandleAsync(new MessageContext("m-2", "demo", TestEngine.Json("""{"sleepMs": 1000}"""), 1, "demo-1"), cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken));
    }
}
