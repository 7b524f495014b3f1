using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Resilience;

namespace QueueApi.Engine.Tests;

/// <summary>The retry rules a worker applies to a failed attempt: whether it is tried again, after how long, and how it ends.</summary>
public sealed class RetryRulesTests
{
    private static readonly QueueOptions Queue = new() { CircuitBreaker = { BreakDuration = TimeSpan.FromSeconds(9) } };

    private static QueueMessage MessageWithAttempts(int attempts)
    {
        return new QueueMessage(MessageId.Next(DateTimeOffset.UtcNow), "q", [], DateTimeOffset.UtcNow) { Attempts = attempts };
    }

    [Fact]
    public void AnOpenCircuitAsksForItsRemainingBreakOrTheQueuesBreakDuration()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), RetryPipeline.DelayFor(new CircuitOpenException("open", TimeSpan.FromSeconds(2)), Queue));
        Assert.Equal(TimeSpan.FromSeconds(9), RetryPipeline.DelayFor(new CircuitOpenException("open"), Queue));
    }

    [Fact]
    public void ARetryAfterIsHonouredWithinZeroAndFiveMinutes()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), RetryPipeline.DelayFor(new RetryLaterException("later", TimeSpan.FromSeconds(3)), Queue));
        Assert.Equal(TimeSpan.Zero, RetryPipeline.DelayFor(new RetryLaterException("later", TimeSpan.FromSeconds(-3)), Queue));
        Assert.Equal(TimeSpan.FromMinutes(5), RetryPipeline.DelayFor(new RetryLaterException("later", TimeSpan.FromHours(1)), Queue));
        Assert.Equal(TimeSpan.FromMinutes(5), RetryPipeline.DelayFor(new RetryLaterException("later", TimeSpan.FromMinutes(5)), Queue));
        Assert.Equal(TimeSpan.Zero, RetryPipeline.DelayFor(new RetryLaterException("later", TimeSpan.Zero), Queue));
    }

    [Fact]
    public void OtherFailuresAndARetryLaterWithoutATimeUseTheQueuesBackoff()
    {
        Assert.Null(RetryPipeline.DelayFor(new RetryLaterException("later"), Queue));
        Assert.Null(RetryPipeline.DelayFor(new InvalidOperationException("boom"), Queue));
        Assert.Null(RetryPipeline.DelayFor(null, Queue));
    }

    [Fact]
    public void AFailedAttemptIsRetriedOnlyWhileAttemptsRemain()
    {
        var boom = new InvalidOperationException("boom");
        Assert.True(RetryPipeline.ShouldRetry(boom, MessageWithAttempts(2), maxAttempts: 3, CancellationToken.None));
        Assert.False(RetryPipeline.ShouldRetry(boom, MessageWithAttempts(3), maxAttempts: 3, CancellationToken.None));
        Assert.False(RetryPipeline.ShouldRetry(boom, null, maxAttempts: 3, CancellationToken.None));
        Assert.False(RetryPipeline.ShouldRetry(null, MessageWithAttempts(1), maxAttempts: 3, CancellationToken.None));
    }

    [Fact]
    public void APermanentFailureOrAStopIsNeverRetried()
    {
        Assert.False(RetryPipeline.ShouldRetry(new PermanentMessageException("bad"), MessageWithAttempts(1), 3, CancellationToken.None));
        Assert.False(RetryPipeline.ShouldRetry(new InvalidOperationException("boom"), MessageWithAttempts(1), 3, new CancellationToken(canceled: true)));
        Assert.False(RetryPipeline.ShouldRetry(new CircuitOpenException("open"), MessageWithAttempts(1), 3, new CancellationToken(canceled: true)));
    }

    [Fact]
    public void AnOpenCircuitsRejectionIsRetriedEvenWithNoAttemptsLeft()
    {
        Assert.True(RetryPipeline.ShouldRetry(new CircuitOpenException("open"), MessageWithAttempts(3), maxAttempts: 3, CancellationToken.None));
        Assert.True(RetryPipeline.ShouldRetry(new CircuitOpenException("open"), null, maxAttempts: 3, CancellationToken.None));
    }

    [Fact]
    public void APermanentFailureEndsFailedWithItsMessage()
    {
        Assert.Equal((MessageStatus.Failed, "bad input"), RetryPipeline.Classify(new PermanentMessageException("bad input"), CancellationToken.None));
    }

    [Fact]
    public void ACancellationOrOpenCircuitAtShutdownEndsFailedAsCancelledByShutdown()
    {
        var stopping = new CancellationToken(canceled: true);
        Assert.Equal((MessageStatus.Failed, RetryPipeline.CancelledByShutdown), RetryPipeline.Classify(new OperationCanceledException(), stopping));
        Assert.Equal((MessageStatus.Failed, RetryPipeline.CancelledByShutdown), RetryPipeline.Classify(new CircuitOpenException("open"), stopping));
        Assert.Equal("cancelled by shutdown", RetryPipeline.CancelledByShutdown);
    }

    [Fact]
    public void AnExhaustedFailureIsDeadLetteredNamingTheExceptionTypeAndMessage()
    {
        Assert.Equal((MessageStatus.DeadLettered, "InvalidOperationException: boom"), RetryPipeline.Classify(new InvalidOperationException("boom"), CancellationToken.None));
        Assert.Equal((MessageStatus.DeadLettered, "OperationCanceledException: gone"), RetryPipeline.Classify(new OperationCanceledException("gone"), CancellationToken.None));
        Assert.Equal((MessageStatus.DeadLettered, "CircuitOpenException: open"), RetryPipeline.Classify(new CircuitOpenException("open"), CancellationToken.None));
    }

    [Fact]
    public void TheBreakerCountsHandlerFailuresButNotPermanentOnesRejectionsOrStops()
    {
        var none = CancellationToken.None;
        var stopping = new CancellationToken(canceled: true);
        Assert.True(RetryPipeline.CountsAsFailure(new InvalidOperationException("boom"), none));
        Assert.True(RetryPipeline.CountsAsFailure(new OperationCanceledException(), none));
        Assert.True(RetryPipeline.CountsAsFailure(new InvalidOperationException("boom"), stopping));
        Assert.False(RetryPipeline.CountsAsFailure(new PermanentMessageException("bad"), none));
        Assert.False(RetryPipeline.CountsAsFailure(new CircuitOpenException("open"), none));
        Assert.False(RetryPipeline.CountsAsFailure(new OperationCanceledException(), stopping));
    }

    [Fact]
    public void TheTimeoutExceptionKeepsPollysWordingAndItsLimit()
    {
        var inner = new OperationCanceledException();
        var ex = new TimeoutRejectedException(TimeSpan.FromSeconds(2), inner);
        Assert.Equal("The operation didn't complete within the allowed timeout of '00:00:02'.", ex.Message);
        Assert.Equal(TimeSpan.FromSeconds(2), ex.Timeout);
        Assert.Same(inner, ex.InnerException);
    }
}
