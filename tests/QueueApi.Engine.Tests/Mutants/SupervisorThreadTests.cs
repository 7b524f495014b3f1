using Microsoft.Extensions.Logging.Abstractions;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Engine.Supervision;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The supervisor on its own, without an engine around it: its thread, the first steps of a stop taken on the
/// caller's thread, the store threads it watches, and what it does when it fails itself.
/// </summary>
public sealed class SupervisorThreadTests
{
    private static Supervisor Create(Microsoft.Extensions.Time.Testing.FakeTimeProvider time) =>
        new(new ShutdownOptions(), time, NullLogger.Instance);

    private static WorkQueue Queue(TimeProvider time, bool paused)
    {
        var options = new QueueOptions { Workers = 1, Capacity = 10, Handler = "test" };
        var store = new MemoryStorage(time).Open("q", options);
        store.SetPaused(paused);
        return new WorkQueue(new QueueRuntime("q", options, store, DelegateHandler.Ok(), time, CancellationToken.None), [], time);
    }

    private static Thread EndedThread(string? name)
    {
        var thread = new Thread(() => { }) { IsBackground = true, Name = name };
        thread.Start();
        Assert.True(thread.Join(TestEngine.Timeout));
        return thread;
    }

    private static WorkerFault Fault(TimeProvider time) => new("q-1", "System.InvalidOperationException", "boom", null, time.GetUtcNow(), "");

    [Fact]
    public async Task TheSupervisorRunsOnANamedBackgroundThreadThatJoinWaitsFor()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        supervisor.Watch([], []); // an engine without queues: nothing to wait for
        supervisor.Life.TryStart();
        Thread? thread = null;
        var background = false;
        var stateWhileStopping = EngineState.Created;
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        supervisor.Stopped += _ =>
        {
            thread = Thread.CurrentThread;
            background = thread.IsBackground; // read while alive: a dead thread's state cannot be read
            stateWhileStopping = supervisor.Life.State;
            entered.Set();
            release.Wait(TestEngine.Timeout);
        };

        Assert.False(supervisor.IsStarted);
        supervisor.Start();
        Assert.True(supervisor.IsStarted);
        Assert.True(supervisor.TryRequestStop(ShutdownMode.Drain, StopReason.Requested));
        var releaser = Task.Run(() =>
        {
            entered.Wait(TestEngine.Timeout);
            release.Set();
        }, TestContext.Current.CancellationToken);

        supervisor.Join(TestEngine.Timeout);

        Assert.NotNull(thread);
        Assert.False(thread.IsAlive, "Join returned before the supervisor's thread ended");
        Assert.Equal("queueapi supervisor", thread.Name);
        Assert.True(background);
        Assert.Equal(EngineState.Stopping, stateWhileStopping);
        // No workers: the drain has nothing to wait for and is not cut off by its deadline (the fake clock never moved).
        Assert.Equal(["stop accepting", "drain", "cancel in-flight", "join", "account"], supervisor.Life.Phases().Select(p => p.Name));
        await releaser.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void AFaultStopsIntakeAndCancelsTheWorkersAtOnceOnTheReportingThread()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time); // never started: only the caller's thread acts
        var queue = Queue(time, paused: false);
        supervisor.Watch([queue], []);
        supervisor.Life.TryStart();

        supervisor.OnWorkerFaulted(Fault(time));

        Assert.True(supervisor.ShutdownToken.IsCancellationRequested);
        Assert.False(queue.IsAccepting);
        Assert.Equal(Supervisor.ExitCodeWorkerFaulted, supervisor.ExitCode);
        Assert.Equal(StopReason.WorkerFaulted, supervisor.Life.Reason);
    }

    [Fact]
    public void ADrainRequestOpensAPausedQueueSoItsAcceptedMessagesFinish()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        var queue = Queue(time, paused: true);
        supervisor.Watch([queue], []);
        supervisor.Life.TryStart();
        Assert.True(queue.Runtime.Pause.IsPaused);

        Assert.True(supervisor.TryRequestStop(ShutdownMode.Drain, StopReason.Requested));

        Assert.False(queue.Runtime.Pause.IsPaused);
        Assert.False(queue.IsAccepting);
        Assert.False(supervisor.ShutdownToken.IsCancellationRequested);
    }

    [Fact]
    public void AnImmediateRequestLeavesAPausedQueuePausedAndCancelsAtOnce()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        var queue = Queue(time, paused: true);
        supervisor.Watch([queue], []);
        supervisor.Life.TryStart();

        Assert.True(supervisor.TryRequestStop(ShutdownMode.Immediate, StopReason.Requested));

        Assert.True(queue.Runtime.Pause.IsPaused);
        Assert.False(queue.IsAccepting);
        Assert.True(supervisor.ShutdownToken.IsCancellationRequested);
    }

    [Fact]
    public void AStoreThreadThatEndedWhileRunningIsTheFirstFailure()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        supervisor.Watch([], [EndedThread(name: null)]);
        supervisor.Life.TryStart();
        using var fatal = new ManualResetEventSlim();
        supervisor.FatalStop += fatal.Set;
        supervisor.Start();

        // The supervisor looks at its heartbeat, which the fake clock rings.
        time.AdvanceUntil(() => fatal.IsSet, TimeSpan.FromMinutes(1), "the supervisor to find the store thread ended");

        var failure = supervisor.FirstFailure!;
        Assert.Equal("store thread", failure.WorkerId);
        Assert.Equal("ended", failure.Kind);
        Assert.Equal("StoreThreadEnded", failure.Exception);
        Assert.Equal("the storage's background thread ended while the engine runs", failure.Message);
        Assert.Equal(Supervisor.ExitCodeWorkerFaulted, supervisor.ExitCode);
        Assert.Equal(StopReason.WorkerFaulted, supervisor.Life.Reason);
        supervisor.Join(TestEngine.Timeout);
    }

    [Fact]
    public void AStoreThreadEndedOnceAStopWasAskedIsNoFailure()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        supervisor.Watch([], [EndedThread("store writer")]);
        supervisor.Life.TryStart();
        using var stopped = new ManualResetEventSlim();
        supervisor.Stopped += _ => stopped.Set();
        Assert.True(supervisor.TryRequestStop(ShutdownMode.Immediate, StopReason.Requested));

        supervisor.Start();

        Assert.True(stopped.Wait(TestEngine.Timeout, TestContext.Current.CancellationToken));
        Assert.Null(supervisor.FirstFailure);
        Assert.Equal(0, supervisor.ExitCode);
        Assert.Equal(StopReason.Requested, supervisor.Life.Reason);
    }

    [Fact]
    public async Task WhenTheSupervisorItselfFailsItReportsStopsTheHostAndExitsWith3()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        supervisor.Watch([], []);
        supervisor.Life.TryStart();
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fatalStops = 0;
        var thrown = new InvalidOperationException("a Stopped handler failed");
        supervisor.Stopped += _ => throw thrown;
        supervisor.FatalStop += () => Interlocked.Increment(ref fatalStops);
        supervisor.Failed += ex => failed.TrySetResult(ex);
        supervisor.Start();

        Assert.True(supervisor.TryRequestStop(ShutdownMode.Drain, StopReason.Requested));

        Assert.Same(thrown, await failed.Task.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken));
        Assert.Equal(Supervisor.ExitCodeWorkerFaulted, supervisor.ExitCode);
        Assert.Equal(1, Volatile.Read(ref fatalStops));
        Assert.True(supervisor.ShutdownToken.IsCancellationRequested);
    }

    [Fact]
    public async Task ASupervisorFailingBeforeItsWindDownStillMarksTheEngineStopping()
    {
        var time = FakeClock.Create();
        var supervisor = Create(time);
        supervisor.Watch([], []);
        supervisor.Life.TryStart();
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        // The first FatalStop (before the wind-down) throws; the second, from the failure path, does not.
        supervisor.FatalStop += () =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("a FatalStop handler failed");
            }
        };
        supervisor.Failed += ex => failed.TrySetResult(ex);
        supervisor.Start();

        supervisor.OnWorkerFaulted(Fault(time));

        await failed.Task.WaitAsync(TestEngine.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(EngineState.Stopping, supervisor.Life.State);
        Assert.Equal(2, Volatile.Read(ref calls));
        Assert.Equal(Supervisor.ExitCodeWorkerFaulted, supervisor.ExitCode);
    }
}
