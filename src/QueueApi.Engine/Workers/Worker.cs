using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;

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
    private readonly ManualResetEventSlim _hangGate = new(false);
    private volatile int _state = (int)WorkerState.Starting;
    private volatile QueueMessage? _current;
    private long _busySinceTicks;
    private long _lastActivityTicks;
    private long _deadline;
    private long _succeeded;
    private long _failed;
    private volatile bool _crashRequested;
    private volatile bool _hangRequested;

    internal Worker(QueueEngine engine, WorkQueue queue, int index, TimeProvider time, ILogger logger)
    {
        _engine = engine;
        _time = time;
        _logger = logger;
        Queue = queue;
        Id = $"{queue.Name}-{index}";
        _wake = CancellationTokenSource.CreateLinkedTokenSource(engine.ShutdownToken);
        _lastActivityTicks = time.GetUtcNow().UtcTicks;
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

    public WorkerFault? Fault { get; private set; }

    /// <summary>Hang injection: the busy activity has no message.</summary>
    public bool IsHung => _hangRequested && State == WorkerState.Busy;

    /// <summary>Timestamp after which the current attempt counts as stuck; 0 when there is none.</summary>
    internal long Deadline => Interlocked.Read(ref _deadline);

    internal bool IsStuck(long now) => Deadline is var d and > 0 && now > d;

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
                wake.WaitHandle.WaitOne(backOff);
                continue;
            }

            SetState(WorkerState.Idle);
            var result = store.TryTake(out var message, IdleWait, wake);
            if (result == TakeResult.Completed)
            {
                return; // Drained: the store was completed and is empty.
            }

            if (result == TakeResult.Taken)
            {
                Process(message!);
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
            ArmDeadline(Queue.Options.AttemptTimeout + Queue.Options.StuckGrace);
            LogHanging(_logger, Id);
            // Deliberately ignores every token: this is what a handler stuck in native code looks like.
            _hangGate.Wait(HangBound);
            throw new InjectedFaultException($"Worker {Id} hung for {HangBound} (fault injection).");
        }
    }

    private void Process(QueueMessage message)
    {
        // Hot path: one wall-clock read to start, one to finish (in Finish), a timestamp only for metrics.
        var start = _engine.Metrics.Enabled ? _time.GetTimestamp() : 0;
        var now = _time.GetUtcNow();
        _current = message;
        Volatile.Write(ref _busySinceTicks, now.UtcTicks);
        SetState(WorkerState.Busy);
        Queue.MarkProcessing(message, Id, now);

        var context = ResilienceContextPool.Shared.Get(_engine.ShutdownToken);
        context.Properties.Set(WorkerKey, this);
        MessageStatus outcome;
        string? error = null;
        try
        {
            Queue.Pipeline.Execute(static (ctx, worker) => worker.RunAttempt(ctx.CancellationToken), context, this);
            outcome = MessageStatus.Succeeded;
        }
        catch (PermanentMessageException ex)
        {
            (outcome, error) = (MessageStatus.Failed, ex.Message);
        }
        catch (Exception ex) when (_engine.ShutdownToken.IsCancellationRequested && ex is OperationCanceledException or BrokenCircuitException)
        {
            // Stopped, not exhausted: a failure, not a dead letter.
            (outcome, error) = (MessageStatus.Failed, "cancelled by shutdown");
        }
#pragma warning disable CA1031 // Per message: one bad message must not kill its worker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            (outcome, error) = (MessageStatus.DeadLettered, $"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            Volatile.Write(ref _deadline, 0);
        }

        var finishedAt = Queue.Finish(message, outcome, error);
        if (start != 0)
        {
            _engine.Metrics.RecordProcessed(Queue.Name, outcome, _time.GetElapsedTime(start));
        }

        // This thread is the only writer of its own counts: no interlocked operation needed.
        if (outcome == MessageStatus.Succeeded)
        {
            Volatile.Write(ref _succeeded, _succeeded + 1);
        }
        else
        {
            Volatile.Write(ref _failed, _failed + 1);
        }

        _current = null;
        Volatile.Write(ref _busySinceTicks, 0);
        Volatile.Write(ref _lastActivityTicks, finishedAt.UtcTicks);
    }

    /// <summary>One attempt, run by the queue's resilience pipeline.</summary>
    private void RunAttempt(CancellationToken cancellationToken)
    {
        var message = _current!;
        if (message.Status == MessageStatus.Retrying)
        {
            Queue.MarkProcessing(message, Id, _time.GetUtcNow());
            SetState(WorkerState.Busy);
        }

        message.Attempts++;
        ArmDeadline(Queue.Options.AttemptTimeout + Queue.Options.StuckGrace);
        var pending = Queue.Handler.HandleAsync(new MessageContext(message.Id, Queue.Name, message.Payload, message.Attempts, Id), cancellationToken);
        if (!pending.IsCompletedSuccessfully)
        {
            // A dedicated thread waits for its handler; the attempt timeout cancels the token, and the
            // supervisor's stuck check bounds a handler that ignores it.
            pending.AsTask().GetAwaiter().GetResult();
        }

        Volatile.Write(ref _deadline, 0);
    }

    /// <summary>Called by the pipeline before a retry's backoff.</summary>
    internal void OnRetrying(TimeSpan delay, Exception? error)
    {
        Interlocked.Exchange(ref _deadline, 0);
        if (_current is { } message)
        {
            Queue.MarkRetrying(message, delay, error is null ? null : $"{error.GetType().Name}: {error.Message}");
        }

        SetState(WorkerState.Retrying);
    }

    private void ArmDeadline(TimeSpan limit)
    {
        var deadline = _time.GetTimestamp() + (long)(limit.TotalSeconds * _time.TimestampFrequency);
        Interlocked.Exchange(ref _deadline, deadline);
        _engine.OnDeadlineArmed(deadline);
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
