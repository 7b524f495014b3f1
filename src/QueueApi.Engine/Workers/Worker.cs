using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Polly;
using QueueApi.Engine.Chaos;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Resilience;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Supervision;

namespace QueueApi.Engine.Workers;

/// <summary>
/// One dedicated, named background thread that serves one queue. It claims from its queue's store, reports every
/// outcome to it and tells the supervisor (<see cref="ISupervisor"/>) when it faults or ends; it knows no engine.
/// </summary>
public sealed partial class Worker : IRetryObserver
{
    // Idle workers wake on a message, a completed store or a token; this bound only caps each wait.
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(30);

    private readonly QueueRuntime _queue;
    private readonly IQueueStore _store;
    private readonly ISupervisor _supervisor;
    private readonly EngineMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WorkerSlot _slot;
    private readonly WallClock _clock;
    private readonly FaultInjection _chaos = new();
    private readonly WakeSignal _wake;
    // The first attempt's failure, replayed into the retry pipeline instead of calling the handler again.
    private ExceptionDispatchInfo? _replay;
    private volatile int _state = (int)WorkerState.Starting;
    private volatile QueueMessage? _current;
    private long _busySinceTicks;
    private long _lastActivityTicks;
    // When the previous message finished; the next one taken without waiting started then. 0: none.
    private long _lastFinish;
    private long _succeeded;
    private long _failed;

    internal Worker(QueueRuntime queue, int index, ISupervisor supervisor, EngineMetrics metrics, TimeProvider time, ILogger logger)
    {
        _queue = queue;
        _store = queue.Store;
        _supervisor = supervisor;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        Id = $"{queue.Name}-{index}";
        _slot = new WorkerSlot(index - 1, Id);
        _clock = new WallClock(time);
        Deadline = new AttemptDeadline(supervisor, queue.Options.StuckGrace, time.TimestampFrequency);
        _wake = new WakeSignal(supervisor.ShutdownToken);
        _lastActivityTicks = time.GetUtcNow().UtcTicks;
        queue.Pause.Register(Wake);
        Thread = new Thread(Run)
        {
            Name = $"queueapi {Id}",
            // Never let a worker keep the process (or a test run) alive.
            IsBackground = true,
        };
    }

    public string Id { get; }
    public string QueueName => _queue.Name;

    public Thread Thread { get; }

    public WorkerState State => (WorkerState)_state;

    public QueueMessage? CurrentMessage => _current;

    public DateTimeOffset? BusySince => Interlocked.Read(ref _busySinceTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    public long Succeeded => Interlocked.Read(ref _succeeded);
    public long Failed => Interlocked.Read(ref _failed);

    public WorkerFault? Fault { get; private set; }

    /// <summary>Hang injection: the busy activity has no message.</summary>
    public bool IsHung => _chaos.HangRequested && State == WorkerState.Busy;

    internal Configuration.QueueOptions Options => _queue.Options;

    /// <summary>The current attempt's time limit, watched by the supervisor.</summary>
    internal AttemptDeadline Deadline { get; }

    internal void Start() => Thread.Start();

    /// <summary>Interrupts the worker's current wait (for a message, a resume or a backoff) so it looks again.</summary>
    internal void Wake() => _wake.Wake();

    private void Run()
    {
        try
        {
            Loop();
            SetState(WorkerState.Stopped);
        }
#pragma warning disable CA1031 // The top of a thread: an escaping exception would kill the process with no wind-down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Stryker disable once String : this first fault's Detail is replaced by ex.ToString() two statements below, and the supervisor reads no detail from it
            var fault = new WorkerFault(Id, ex.GetType().FullName ?? ex.GetType().Name, ex.Message, _current?.Id, _time.GetUtcNow(), "");
            Fault = fault;
            SetState(WorkerState.Faulted);
            // Tell the supervisor first; the stack trace and the log line can wait a few microseconds.
            _supervisor.OnWorkerFaulted(fault);
            Fault = fault with { Detail = ex.ToString() };
            WorkerLog.Faulted(_logger, Id, ex.GetType().Name, ex.Message, ex);
        }
        finally
        {
            _supervisor.OnWorkerExited();
        }
    }

    private void Loop()
    {
        var shutdown = _supervisor.ShutdownToken;
        var store = _store;
        while (!shutdown.IsCancellationRequested)
        {
            var wake = _wake.Renew();
            CheckChaos();
            if (_queue.SyncPaused())
            {
                SetState(WorkerState.Paused);
                _lastFinish = 0;
                try
                {
                    _queue.Pause.WaitUntilRunning(QueueRuntime.PauseRecheck, wake);
                }
                catch (OperationCanceledException)
                {
                    // Woken by shutdown or fault injection; the loop looks at why.
                }

                continue;
            }

            var backOff = _queue.BreakRemaining();
            if (backOff > TimeSpan.Zero)
            {
                // The circuit is open: the queue backs off as a whole instead of burning its messages.
                SetState(WorkerState.BackingOff);
                _lastFinish = 0;
                _wake.Sleep(wake, backOff, _time);
                continue;
            }

            SetState(WorkerState.Idle);
            // Back to back: the message taken without a wait started when the previous one finished.
            if (_lastFinish != 0 && !wake.IsCancellationRequested && store.TryClaimNow(_slot, out var next))
            {
                Process(next!, _lastFinish);
                continue;
            }

            // Just finished one: the store may spin briefly before this thread sleeps.
            var result = store.TryClaim(_slot, out var message, IdleWait, wake, spinFirst: _lastFinish != 0);
            _lastFinish = 0;
            if (result == TakeResult.Completed)
            {
                return; // Drained: the store was completed and is empty.
            }

            if (result == TakeResult.Taken)
            {
                Process(message!, _time.GetTimestamp());
            }
        }

        // Stryker disable once Statement : Run sets Stopped right after Loop returns, so Stopping is never left standing; no reader can rely on the instant between
        SetState(WorkerState.Stopping);
    }

    private void Process(QueueMessage message, long start)
    {
        if (_queue.Starts is { } starts && !starts.TryStartNow())
        {
            SetState(WorkerState.Throttled); // Holds the claimed message until the rate limit lets it start.
            if (!starts.WaitToStart(_supervisor.ShutdownToken))
            {
                _store.Release(message, _slot, RetryPipeline.CancelledByShutdown); // Never started; a durable store keeps it.
                return;
            }

            start = _time.GetTimestamp();
        }

        // Hot path: one timestamp to start (often the previous finish), one to finish; wall time from the anchor.
        // Never before it was enqueued: a reused finish time can precede an enqueue by nanoseconds.
        var now = new DateTimeOffset(Math.Max(_clock.UtcTicksOf(start), message.EnqueuedAtTicks), TimeSpan.Zero);
        _current = message;
        Volatile.Write(ref _busySinceTicks, now.UtcTicks);
        SetState(WorkerState.Busy);
        _store.Processing(message, _slot, now);

        MessageStatus outcome;
        string? error = null;
        try
        {
            // The first attempt runs outside Polly: a message that succeeds at once pays for no pipeline.
            Attempt(now.UtcTicks, start);
            outcome = MessageStatus.Succeeded;
        }
        catch (Exception ex) when (ShouldRetry(ex))
        {
            (outcome, error) = Retry(ex);
        }
#pragma warning disable CA1031 // Per message: one bad message must not kill its worker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            (outcome, error) = Classify(ex);
        }

        var end = _time.GetTimestamp();
        var finishedAt = Math.Max(_clock.UtcTicksOf(end), now.UtcTicks);
        // This thread is the only writer of its own counts: no interlocked operation needed.
        if (outcome == MessageStatus.Succeeded)
        {
            Volatile.Write(ref _succeeded, _succeeded + 1);
        }
        else
        {
            Volatile.Write(ref _failed, _failed + 1);
        }

        if (outcome == MessageStatus.Failed && error == RetryPipeline.CancelledByShutdown)
        {
            _store.Release(message, _slot, RetryPipeline.CancelledByShutdown); // A durable store keeps it for the next start.
        }
        else
        {
            _store.Finish(message, _slot, outcome, error, finishedAt);
        }

        _lastFinish = end;
        if (_metrics.Enabled)
        {
            _metrics.RecordProcessed(_queue.Name, outcome, _time.GetElapsedTime(start, end));
        }

        _current = null;
        Volatile.Write(ref _busySinceTicks, 0);
        Volatile.Write(ref _lastActivityTicks, finishedAt);
    }

    private bool ShouldRetry(Exception ex) =>
        RetryPipeline.ShouldRetry(ex, _current, _queue.Options.MaxAttempts, _supervisor.ShutdownToken);

    /// <summary>After a failed first attempt: Polly's retry pipeline takes over, starting from that failure.</summary>
    private (MessageStatus Outcome, string? Error) Retry(Exception first)
    {
        _replay = ExceptionDispatchInfo.Capture(first);
        var context = ResilienceContextPool.Shared.Get(_supervisor.ShutdownToken);
        context.Properties.Set(RetryPipeline.ObserverKey, this);
        try
        {
            _queue.Retry.Execute(static (_, worker) => worker.RetryAttempt(), context, this);
            return (MessageStatus.Succeeded, null);
        }
#pragma warning disable CA1031 // Per message: one bad message must not kill its worker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Classify(ex);
        }
        finally
        {
            _replay = null;
            // Stryker disable once Statement : returning the context to Polly's pool only saves an allocation; a context not returned is collected, and each run gets a fresh or reset one
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void RetryAttempt()
    {
        if (_replay is { } first)
        {
            // The pipeline's first call stands for the attempt already made: it fails the same way, at once.
            _replay = null;
            first.Throw();
        }

        var start = _time.GetTimestamp();
        Attempt(_clock.UtcTicksOf(start), start);
    }

    private (MessageStatus Outcome, string? Error) Classify(Exception ex) => RetryPipeline.Classify(ex, _supervisor.ShutdownToken);

    /// <summary>One attempt: past the circuit breaker, then the handler under the attempt's time limit.</summary>
    private void Attempt(long nowTicks, long start)
    {
        var breaker = _queue.Breaker;
        if (!breaker.TryEnter(nowTicks, out var retryAfter, out var probe))
        {
            throw new CircuitOpenException($"The circuit of queue '{_queue.Name}' is open; attempts resume in {retryAfter}.", retryAfter);
        }

        try
        {
            RunAttempt(start);
        }
        catch (Exception ex) when (RetryPipeline.CountsAsFailure(ex, _supervisor.ShutdownToken))
        {
            breaker.OnFailure(nowTicks, probe);
            throw;
        }
        catch
        {
            breaker.OnSuccess(_slot.Index, nowTicks, probe); // Not the handler's fault: as in Polly, it does not count against it.
            throw;
        }

        breaker.OnSuccess(_slot.Index, nowTicks, probe);
    }

    private void RunAttempt(long start)
    {
        var message = _current!;
        if (message.Status == MessageStatus.Retrying)
        {
            _store.Processing(message, _slot, _time.GetUtcNow());
            SetState(WorkerState.Busy);
        }

        _store.AttemptStarted(message, _slot);
        using var span = MessageTracing.StartAttempt(message, _queue.Name, Id);
        var armed = Deadline.Arm(start, _queue.Options.AttemptTimeout);
        try
        {
            var pending = _queue.Handler.HandleAsync(new MessageContext(message, _queue.Name, Id), Deadline.Token);
            if (!pending.IsCompletedSuccessfully)
            {
                // A dedicated thread waits for its handler; the supervisor cancels the token at the attempt's
                // time limit, and counts the worker stuck if the handler ignores that for the grace period.
                pending.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception ex) when (MessageTracing.Failed(span, ex))
        {
            // Stryker disable once Statement : unreachable: MessageTracing.Failed always returns false, so this catch never runs
            throw; // Never reached: the filter only marks the span.
        }
        catch (OperationCanceledException ex) when (!_supervisor.ShutdownToken.IsCancellationRequested && Deadline.TimedOut)
        {
            throw new TimeoutRejectedException(_queue.Options.AttemptTimeout, ex);
        }
        finally
        {
            Deadline.Disarm(armed);
        }
    }

    /// <summary>Called by the pipeline before a retry's backoff.</summary>
    void IRetryObserver.OnRetrying(TimeSpan delay, Exception? error)
    {
        if (_current is { } message)
        {
            // Stryker disable once Conditional : the retry strategy only handles exceptions (ShouldRetry is false for a null exception), so OnRetry always has an error
            _store.Retrying(message, _slot, _time.GetUtcNow() + delay, error is null ? null : $"{error.GetType().Name}: {error.Message}");
        }

        SetState(WorkerState.Retrying);
    }

    private void SetState(WorkerState state) => _state = (int)state;
}
