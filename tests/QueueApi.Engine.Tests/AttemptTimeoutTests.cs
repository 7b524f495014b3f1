using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests;

/// <summary>
/// The supervisor keeps each attempt's time limit by cancelling the worker's token: whatever a handler hangs on
/// that token must neither stall nor kill the supervisor (see also the stuck tests), nor reach another attempt.
/// </summary>
public sealed class AttemptTimeoutTests
{
    [Fact]
    public async Task ThrowingTokenCallbackDoesNotKillTheSupervisor()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler((context, ct) =>
            {
                if (context.Attempt == 1)
                {
                    ct.Register(static () => throw new InvalidOperationException("callback failed"));
                    return new ValueTask(Task.Delay(Timeout.Infinite, ct));
                }

                return ValueTask.CompletedTask;
            }),
            q =>
            {
                q.Workers = 1;
                q.AttemptTimeout = TimeSpan.FromMilliseconds(200);
                q.StuckGrace = TimeSpan.FromHours(1); // the clock runs ahead of the threads here; being stuck is not the subject
            },
            time: time);

        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the first attempt to start");
        time.AdvanceUntil(() => message.IsFinished, TimeSpan.FromMilliseconds(50), "the message to time out once and then succeed");
        Assert.Equal(MessageStatus.Succeeded, message.Status);

        // A live supervisor carries out a stop and completes with a report; a dead one would have faulted it.
        engine.RequestStop(ShutdownMode.Drain);
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(StopReason.Requested, report.Reason);
        Assert.Equal(0, engine.ExitCode);
    }

    [Fact]
    public void AFinishedAttemptsTokenIsNotCancelledByALaterAttemptsTimeout()
    {
        var staleFired = false;
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler((context, ct) =>
            {
                if (context.Payload.Span.SequenceEqual("{\"first\":1}"u8))
                {
                    ct.Register(() => Volatile.Write(ref staleFired, true)); // left registered, as sloppy handlers do
                    return ValueTask.CompletedTask;
                }

                return new ValueTask(Task.Delay(Timeout.Infinite, ct));
            }),
            q =>
            {
                q.Workers = 1;
                q.MaxAttempts = 1;
                q.AttemptTimeout = TimeSpan.FromMilliseconds(200);
                q.StuckGrace = TimeSpan.FromHours(1); // the clock runs ahead of the threads here; being stuck is not the subject
            },
            time: time);

        var first = engine.Enqueue("{\"first\":1}");
        TestEngine.WaitFor(() => first.Status == MessageStatus.Succeeded, "the first message to succeed");
        var second = engine.Enqueue("{\"second\":1}");
        time.AdvanceUntil(() => second.IsFinished, TimeSpan.FromMilliseconds(50), "the second message to time out");

        Assert.Equal(MessageStatus.DeadLettered, second.Status);
        Assert.False(Volatile.Read(ref staleFired), "the first message's token callback ran when the second message timed out");
    }
}
