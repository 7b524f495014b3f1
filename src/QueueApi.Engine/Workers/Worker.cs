using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Workers;

/// <summary>One dedicated, named background thread that serves one queue.</summary>
public sealed partial class Worker
{
    internal static readonly ResiliencePropertyKey<Worker> WorkerKey = new("queueapi.worker");

    // Idle workers wake on a message, a completed store or a token; this bound only caps each wait.
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(30);

    // A hung worker (fault injection) blocks this long at most; its thread is a background one anyway.
    private static readonly TimeSpan HangBound = TimeSpan.FromHours(1);

    private readonly QueueEngine _engine;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private CancellationTokenSource _wake;
    // The handler's token for every attempt: reused while nothing cancels it, so an attempt arms no timer.
    private CancellationTokenSource _attempt;
    // The first attempt's failure, replayed into the retry pipeline instead of calling the handler again.
    private ExceptionDispatchInfo? _replay;
    private readonly ManualResetEventSlim _hangGate = new(false);
    private volatile int _state = (int)WorkerState.Starting;
    private volatile QueueMessage? _current;
    private long _busySinceTicks;
    private long _lastActivityTicks;
    private long _deadline;
    // Wall-clock time from timestamps: an anchor pair renewed each second, so a message needs one clock read.
    private readonly double _ticksPerTimestamp;
    private long _anchorTimestamp = long.MinValue / 2;
    private long _anchorUtcTicks;
    // When the previous message finished; the next one taken without waiting started then. 0: none.
    private long _lastFinish;
    private long _succeeded;
    private long _failed;
    private long _attemptsPassed;
    // This worker's share of the queue's retained finished messages.
    private readonly int _ring;
    private volatile bool _crashRequested;
    private volatile bool _hangRequested;

    internal Worker(QueueEngine engine, WorkQueue queue, int index, TimeProvider time, ILogger logger)
    {
        _engine = engine;
        _time = time;
        _logger = logger;
        Queue = queue;
        Id = $"{queue.Name}-{index}";
        _ring = index - 1;
        _wake = CancellationTokenSource.CreateLinkedTokenSource(engine.ShutdownToken);
        _attempt = CancellationTokenSource.CreateLinkedTokenSource(engine.ShutdownToken);
        _lastActivityTicks = time.GetUtcNow().UtcTicks;
        _ticksPerTimestamp = TimeSpan.TicksPerSecond / (double)time.TimestampFrequency;
        Thread = new Thread(Run)
        {
            Name = $"queueapi {Id}",
            // Never let a worker keep the process (or a test run) alive.
            IsBackground = true,
        };
    }

    public string Id { get; }

    public WorkQueue Queue { get; }

    public Thread Thread { get; }

    public WorkerState State => (WorkerState)_state;

    public QueueMessage? CurrentMessage => _current;

    public DateTimeOffset? BusySince => Interlocked.Read(ref _busySinceTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Attempts that did not count against the circuit breaker: its window's successes, read when it needs them.</summary>
    internal long AttemptsPassed => Volatile.Read(ref _attemptsPassed);

    public WorkerFault? Fault { get; private set; }

    /// <summary>Hang injection: the busy activity has no message.</summary>
    public bool IsHung => _hangRequested && State == WorkerState.Busy;

    /// <summary>
    /// When the supervisor must next look at this worker: the current attempt's time limit while it runs, and once
    /// the supervisor has cancelled the attempt (the deadline is then stored negated), that limit plus the grace.
    /// 0 when there is no attempt.
    /// </summary>
    internal long Deadline => Interlocked.Read(ref _deadline) switch
    {
        0 => 0,
        > 0 and var d => d,
        var d => -d + Grace,
    };

    private long Grace => (long)(Queue.Options.StuckGrace.TotalSeconds * _time.TimestampFrequency);

    internal bool IsStuck(long now) => Interlocked.Read(ref _deadline) is var d and not 0 && now > Math.Abs(d) + Grace;

    /// <summary>
    /// Called by the supervisor past the attempt's deadline: cancels the handler's token. The deadline is claimed
    /// first (negated), so a worker that finished meanwhile knows the cancel is its to absorb, not the next attempt's.
    /// </summary>
    internal void TimeOut(long now)
    {
        var d = Interlocked.Read(ref _deadline);
        // Read after the deadline: the token is only renewed after a claim, so this is the armed attempt's token.
        var attempt = Volatile.Read(ref _attempt);
        if (d > 0 && now > d && Interlocked.CompareExchange(ref _deadline, -d, d) == d)
        {
            // The claimed source is the supervisor's now: the worker takes a fresh one and never touches it again.
            // CancelAsync marks it cancelled at once and runs the handler's callbacks (and whatever continues from
            // them) on the thread pool, so a handler that blocks or throws there cannot stall or kill the supervisor.
            attempt.CancelAsync().ContinueWith(
                static (cancel, source) =>
                {
                    _ = cancel.Exception; // A throwing callback is the handler's business: observed, not rethrown.
                    ((CancellationTokenSource)source!).Dispose();
                },
                attempt,
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
        }
    }

    internal void Start() => Thread.Start();

    /// <summary>Fault injection: the loop throws as if it had a bug.</summary>
    internal void RequestCrash()
    {
        _crashRequested = true;
        Wake();
    }

    /// <summary>Fault injection: the worker blocks and ignores its token.</summary>
    internal void RequestHang()
    {
        _hangRequested = true;
        Wake();
    }

    /// <summary>Interrupts the worker's current wait (for a message, a resume or a backoff) so it looks again.</summary>
    internal void Wake()
    {
        try
        {
            Volatile.Read(ref _wake).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Replaced or stopped meanwhile: the worker is already awake.
        }
    }

    /// <summary>After a wake, a fresh token for the next wait (only on wake-ups, never per message).</summary>
    private CancellationToken RenewWakeToken()
    {
        var old = _wake;
        if (!old.IsCancellationRequested || _engine.ShutdownToken.IsCancellationRequested)
        {
            return old.Token;
        }

        Volatile.Write(ref _wake, CancellationTokenSource.CreateLinkedTokenSource(_engine.ShutdownToken));
        old.Dispose();
        return _wake.Token;
    }

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
            var fault = new WorkerFault(Id, ex.GetType().FullName ?? ex.GetType().Name, ex.Message, _current?.Id, _time.GetUtcNow(), "");
            Fault = fault;
            SetState(WorkerState.Faulted);
            // Tell the supervisor first; the stack trace and the log line can wait a few microseconds.
            _engine.OnWorkerFaulted(this);
            Fault = fault with { Detail = ex.ToString() };
            LogFaulted(_logger, Id, ex.GetType().Name, ex.Message, ex);
        }
        finally
        {
            _engine.OnWorkerExited(this);
        }
    }

    private void Loop()
    {
        var shutdown = _engine.ShutdownToken;
        var store = Queue.Store;
        while (!shutdown.IsCancellationRequested)
        {
            var wake = RenewWakeToken();
            CheckChaos();
            if (Queue.IsPaused)
            {
                SetState(WorkerState.Paused);
                _lastFinish = 0;
                try
                {
                    Queue.WaitUntilRunning(IdleWait, wake);
                }
                catch (OperationCanceledException)
                {
                    // Woken by shutdown or fault injection; the loop looks at why.
                }

                continue;
            }

            var backOff = Queue.BreakRemaining();
            if (backOff > TimeSpan.Zero)
            {
                // The circuit is open: the queue backs off as a whole instead of burning its messages.
                SetState(WorkerState.BackingOff);
                _lastFinish = 0;
                wake.WaitHandle.WaitOne(backOff);
                continue;
            }

            SetState(WorkerState.Idle);
            // Back to back: the message taken without a wait started when the previous one finished.
            if (_lastFinish != 0 && !wake.IsCancellationRequested && store.TryTakeNow(out var next))
            {
                Process(next!, _lastFinish);
                continue;
            }

            // Just finished one: the store may spin briefly before this thread sleeps.
            var result = store.TryTake(out var message, IdleWait, wake, spinFirst: _lastFinish != 0);
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

        SetState(WorkerState.Stopping);
    }

    private void CheckChaos()
    {
        if (_crashRequested)
        {
            throw new InjectedFaultException($"Worker {Id} was asked to crash (fault injection).");
        }

        if (_hangRequested)
        {
            SetState(WorkerState.Busy);
            Interlocked.Exchange(ref _busySinceTicks, _time.GetUtcNow().UtcTicks);
            ArmDeadline(_time.GetTimestamp(), Queue.Options.AttemptTimeout);
            LogHanging(_logger, Id);
            // Deliberately ignores every token: this is what a handler stuck in native code looks like.
            _hangGate.Wait(HangBound);
            throw new InjectedFaultException($"Worker {Id} hung for {HangBound} (fault injection).");
        }
    }

    private void Process(QueueMessage message, long start)
    {
        // Hot path: one timestamp to start (often the previous finish), one to finish; wall time from the anchor.
        // Never before it was enqueued: a reused finish time can precede an enqueue by nanoseconds.
        var now = new DateTimeOffset(Math.Max(UtcTicksOf(start), message.EnqueuedAtTicks), TimeSpan.Zero);
        _current = message;
        Volatile.Write(ref _busySinceTicks, now.UtcTicks);
        SetState(WorkerState.Busy);
        Queue.MarkProcessing(message, Id, now);

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
        var finishedAt = Math.Max(UtcTicksOf(end), now.UtcTicks);
        // This thread is the only writer of its own counts: no interlocked operation needed. Counted before the
        // status is published, so whoever sees the message succeeded sees it in the queue's books too.
        if (outcome == MessageStatus.Succeeded)
        {
            Volatile.Write(ref _succeeded, _succeeded + 1);
        }
        else
        {
            Volatile.Write(ref _failed, _failed + 1);
        }

        Queue.Finish(message, outcome, error, finishedAt, _ring);
        _lastFinish = end;
        if (_engine.Metrics.Enabled)
        {
            _engine.Metrics.RecordProcessed(Queue.Name, outcome, _time.GetElapsedTime(start, end));
        }

        _current = null;
        Volatile.Write(ref _busySinceTicks, 0);
        Volatile.Write(ref _lastActivityTicks, finishedAt);
    }

    private bool ShouldRetry(Exception ex) =>
        QueuePipeline.ShouldRetry(ex, _current, Queue.Options.MaxAttempts, _engine.ShutdownToken);

    /// <summary>After a failed first attempt: Polly's retry pipeline takes over, starting from that failure.</summary>
    private (MessageStatus Outcome, string? Error) Retry(Exception first)
    {
        _replay = ExceptionDispatchInfo.Capture(first);
        var context = ResilienceContextPool.Shared.Get(_engine.ShutdownToken);
        context.Properties.Set(WorkerKey, this);
        try
        {
            Queue.Retry.Execute(static (_, worker) => worker.RetryAttempt(), context, this);
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
        Attempt(UtcTicksOf(start), start);
    }

    private (MessageStatus Outcome, string? Error) Classify(Exception ex) => ex switch
    {
        PermanentMessageException => (MessageStatus.Failed, ex.Message),
        // Stopped, not exhausted: a failure, not a dead letter.
        OperationCanceledException or BrokenCircuitException when _engine.ShutdownToken.IsCancellationRequested =>
            (MessageStatus.Failed, "cancelled by shutdown"),
        _ => (MessageStatus.DeadLettered, $"{ex.GetType().Name}: {ex.Message}"),
    };

    /// <summary>One attempt: past the circuit breaker, then the handler under the attempt's time limit.</summary>
    private void Attempt(long nowTicks, long start)
    {
        var breaker = Queue.Breaker;
        if (!breaker.TryEnter(nowTicks, out var retryAfter, out var probe))
        {
            throw new BrokenCircuitException($"The circuit of queue '{Queue.Name}' is open; attempts resume in {retryAfter}.", retryAfter);
        }

        try
        {
            RunAttempt(start);
        }
        catch (Exception ex) when (QueuePipeline.CountsAsFailure(ex, _engine.ShutdownToken))
        {
            breaker.OnFailure(nowTicks, probe);
            throw;
        }
        catch
        {
            Passed(nowTicks, probe); // Not the handler's fault: as in Polly, it does not count against it.
            throw;
        }

        Passed(nowTicks, probe);
    }

    private void Passed(long nowTicks, bool probe)
    {
        Volatile.Write(ref _attemptsPassed, _attemptsPassed + 1);
        Queue.Breaker.OnSuccess(nowTicks, probe);
    }

    private void RunAttempt(long start)
    {
        var message = _current!;
        if (message.Status == MessageStatus.Retrying)
        {
            Queue.MarkProcessing(message, Id, _time.GetUtcNow());
            SetState(WorkerState.Busy);
        }

        message.Attempts++;
        var armed = ArmDeadline(start, Queue.Options.AttemptTimeout);
        try
        {
            var pending = Queue.Handler.HandleAsync(new MessageContext(message, Queue.Name, Id), _attempt.Token);
            if (!pending.IsCompletedSuccessfully)
            {
                // A dedicated thread waits for its handler; the supervisor cancels the token at the attempt's
                // time limit, and counts the worker stuck if the handler ignores that for the grace period.
                pending.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException ex) when (!_engine.ShutdownToken.IsCancellationRequested && Interlocked.Read(ref _deadline) < 0)
        {
            throw new TimeoutRejectedException(
                $"The operation didn't complete within the allowed timeout of '{Queue.Options.AttemptTimeout}'.", Queue.Options.AttemptTimeout, ex);
        }
        finally
        {
            Disarm(armed);
        }
    }

    /// <summary>Ends the attempt's deadline; if the supervisor claimed it, takes a fresh token for the next one.</summary>
    private void Disarm(long armed)
    {
        if (Interlocked.CompareExchange(ref _deadline, 0, armed) == armed)
        {
            // Unclaimed: the token lives on, minus whatever this attempt registered on it and left behind, so a
            // later attempt's timeout never runs an earlier attempt's callbacks (a no-op when nothing registered).
            // False only when shutdown cancelled it, and then the loop ends.
            _attempt.TryReset();
            return;
        }

        // The supervisor claimed the deadline; it cancels and disposes that source itself.
        Interlocked.Exchange(ref _deadline, 0);
        Renew();
    }

    private void Renew() =>
        Volatile.Write(ref _attempt, CancellationTokenSource.CreateLinkedTokenSource(_engine.ShutdownToken));

    /// <summary>Called by the pipeline before a retry's backoff.</summary>
    internal void OnRetrying(TimeSpan delay, Exception? error)
    {
        if (_current is { } message)
        {
            Queue.MarkRetrying(message, delay, error is null ? null : $"{error.GetType().Name}: {error.Message}");
        }

        SetState(WorkerState.Retrying);
    }

    private long ArmDeadline(long start, TimeSpan limit)
    {
        // Never 0 and never negative: those mean "no attempt" and "claimed by the supervisor". The supervisor never
        // sleeps longer than the shortest time limit, so a deadline armed while it plans its sleep is still met.
        var deadline = Math.Max(1, start + (long)(limit.TotalSeconds * _time.TimestampFrequency));
        Volatile.Write(ref _deadline, deadline);
        _engine.OnDeadlineArmed(deadline);
        return deadline;
    }

    /// <summary>UTC ticks of a timestamp; renews the anchor when it is a second old (a clock read a second).</summary>
    private long UtcTicksOf(long timestamp)
    {
        var since = timestamp - _anchorTimestamp;
        if (since < 0 || since > _time.TimestampFrequency)
        {
            _anchorUtcTicks = _time.GetUtcNow().UtcTicks;
            _anchorTimestamp = timestamp;
            since = 0;
        }

        return _anchorUtcTicks + (long)(since * _ticksPerTimestamp);
    }

    private void SetState(WorkerState state)
    {
        _state = (int)state;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Worker {Worker} faulted with {ExceptionType}: {Reason} (the service winds down)")]
    private static partial void LogFaulted(ILogger logger, string worker, string exceptionType, string reason, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} hangs on purpose (fault injection) and ignores its token.")]
    private static partial void LogHanging(ILogger logger, string worker);
}

/// <summary>The exception a worker throws when fault injection asks it to fail.</summary>
public sealed class InjectedFaultException : Exception
{
    public InjectedFaultException() { }

    public InjectedFaultException(string message) : base(message) { }

    public InjectedFaultException(string message, Exception inner) : base(message, inner) { }
}
