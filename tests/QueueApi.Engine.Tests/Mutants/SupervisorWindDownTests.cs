using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The supervisor's wind-down with real workers: a failure cuts a drain short, the cancel grace is served in full,
/// the join waits for a worker that is leaving, deadlines are still watched while draining, and a stuck worker's
/// failure says what it did not do.
/// </summary>
public sealed class SupervisorWindDownTests
{
    /// <summary>A handler that ignores its token until the test releases it (bounded).</summary>
    private static DelegateHandler IgnoresItsToken(ManualResetEventSlim release) => new((_, _) =>
    {
        release.Wait(TimeSpan.FromSeconds(20));
        return ValueTask.CompletedTask;
    });

    private static bool HasPhase(QueueEngine engine, string name) => engine.Report()?.Phases.Any(p => p.Name == name) == true;

    [Fact]
    public async Task AFailureWhileDrainingCutsTheDrainShort()
    {
        using var release = new ManualResetEventSlim();
        using var engine = TestEngine.Create(IgnoresItsToken(release), q => q.Workers = 1, o =>
        {
            o.Shutdown.DrainTimeout = TimeSpan.FromSeconds(60);
            o.Shutdown.CancelGrace = TimeSpan.FromMilliseconds(100);
            o.Shutdown.JoinTimeout = TimeSpan.FromMilliseconds(100);
        });
        try
        {
            var message = engine.Enqueue();
            TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the message to start");
            engine.RequestStop(ShutdownMode.Drain);
            TestEngine.WaitFor(() => HasPhase(engine, "stop accepting"), "the drain to begin");

            engine.ReportFault("scheduler", new InvalidOperationException("boom"));

            // Far sooner than the 60 s drain: the failure ends it.
            var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
            Assert.Equal(StopReason.WorkerFaulted, report.Reason);
            Assert.Contains(report.Phases, p => p.Name == "drain (deadline passed)");
            Assert.DoesNotContain(report.Phases, p => p.Name == "drain");
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task TheCancelGraceIsServedInFullEvenWhenMoreFailuresArrive()
    {
        using var release = new ManualResetEventSlim();
        var grace = TimeSpan.FromMilliseconds(300);
        using var engine = TestEngine.Create(IgnoresItsToken(release), q => q.Workers = 1, o =>
        {
            o.Shutdown.CancelGrace = grace;
            o.Shutdown.JoinTimeout = TimeSpan.FromMilliseconds(100);
        });
        try
        {
            var message = engine.Enqueue();
            TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the message to start");
            engine.ReportFault("scheduler", new InvalidOperationException("first"));
            TestEngine.WaitFor(() => HasPhase(engine, "stop accepting"), "the wind-down to begin");

            // A second failure wakes the supervisor during the grace: the grace goes on, it is not cut short.
            engine.ReportFault("other", new InvalidOperationException("second"));

            var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
            var cancel = report.Phases.Single(p => p.Name == "cancel in-flight");
            Assert.True(cancel.DurationMs >= grace.TotalMilliseconds - 20, $"the grace lasted {cancel.DurationMs} ms");
            Assert.Equal("scheduler", report.FirstFailure!.WorkerId);
            Assert.Equal(["q-1"], report.AbandonedWorkers);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task TheJoinWaitsForAWorkerThatLeavesWithinItsBudget()
    {
        using var release = new ManualResetEventSlim();
        using var engine = TestEngine.Create(IgnoresItsToken(release), q => q.Workers = 1, o =>
        {
            o.Shutdown.CancelGrace = TimeSpan.FromMilliseconds(50);
            o.Shutdown.JoinTimeout = TimeSpan.FromSeconds(10);
        });
        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the message to start");
        engine.RequestStop(ShutdownMode.Immediate);
        TestEngine.WaitFor(() => HasPhase(engine, "cancel in-flight"), "the grace to pass");

        release.Set(); // the handler returns during the join

        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Empty(report.AbandonedWorkers);
        Assert.All(engine.Workers, w => Assert.False(w.Thread.IsAlive));
    }

    [Fact]
    public async Task AnAttemptPastItsLimitIsCancelledWhileTheEngineDrains()
    {
        var time = FakeClock.Create();
        var limit = TimeSpan.FromMilliseconds(200);
        var drain = TimeSpan.FromSeconds(30);
        using var cancelled = new ManualResetEventSlim();
        using var engine = TestEngine.Create(
            new DelegateHandler((_, ct) =>
            {
                ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(20));
                if (ct.IsCancellationRequested)
                {
                    cancelled.Set();
                }

                return ValueTask.CompletedTask;
            }),
            q =>
            {
                q.Workers = 1;
                q.MaxAttempts = 1;
                q.AttemptTimeout = limit;
                q.StuckGrace = TimeSpan.FromSeconds(5);
            },
            o => o.Shutdown.DrainTimeout = drain,
            time);
        var start = time.GetTimestamp();
        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the message to start");
        engine.RequestStop(ShutdownMode.Drain);
        TestEngine.WaitFor(() => HasPhase(engine, "stop accepting"), "the drain to begin");

        time.AdvanceUntil(() => cancelled.IsSet, TimeSpan.FromMilliseconds(50), "the attempt's time limit to cancel its handler");

        var waited = time.GetElapsedTime(start);
        Assert.True(waited < drain, $"cancelled after {waited}: by the drain deadline, not the attempt's limit");
        Assert.True(waited > limit, $"cancelled after {waited}, before the limit");
        TestEngine.WaitFor(() => message.IsFinished, "the timed-out message to finish");
        var report = await engine.Completion.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Contains(report.Phases, p => p.Name == "drain");
    }

    [Fact]
    public void AStuckWorkerIsFoundPastItsLimitPlusGraceAndSaysWhatItDidNotDo()
    {
        using var release = new ManualResetEventSlim();
        var time = FakeClock.Create();
        var limit = TimeSpan.FromMilliseconds(200);
        var grace = TimeSpan.FromMilliseconds(50);
        using var engine = TestEngine.Create(IgnoresItsToken(release), q =>
        {
            q.Workers = 1;
            q.AttemptTimeout = limit;
            q.StuckGrace = grace;
        }, time: time);
        using var fatal = new ManualResetEventSlim();
        engine.FatalStop += _ => fatal.Set();
        try
        {
            var start = time.GetTimestamp(); // the clock has not moved: the attempt is armed at this time
            var message = engine.Enqueue();
            TestEngine.WaitFor(() => message.Status == MessageStatus.Processing, "the message to start");

            // Small steps, each given time for the supervisor to act on the alarm it set on this clock.
            var bound = System.Diagnostics.Stopwatch.StartNew();
            while (!fatal.IsSet && bound.Elapsed < TestEngine.Timeout)
            {
                time.Advance(TimeSpan.FromMilliseconds(10));
                fatal.Wait(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
            }

            var found = time.GetElapsedTime(start);
            Assert.True(fatal.IsSet, "the stuck worker was never found");
            Assert.True(found > limit + grace, $"found after {found}, within its limit plus grace");
            Assert.StartsWith("did not return within", engine.FirstFailure!.Message, StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
        }
    }
}
