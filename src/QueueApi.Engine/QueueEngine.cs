using System.Collections.Frozen;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine;

/// <summary>Where the engine is in its life.</summary>
public enum EngineState
{
    Created,
    Running,
    Stopping,
    Stopped,
}

/// <summary>What a stop request answers: the mode, what is still queued, and the deadline.</summary>
public sealed record StopTicket(ShutdownMode Mode, bool AlreadyStopping, long Queued, long InFlight, DateTimeOffset Deadline);

/// <summary>
/// The queues, their worker threads and the supervisor that watches them. Knows nothing of HTTP.
/// One token (<see cref="ShutdownToken"/>) asks every worker to stop; the supervisor thread runs every wind-down.
/// </summary>
public sealed partial class QueueEngine : IDisposable
{
    public const int ExitCodeWorkerFaulted = 3;
    public const int ExitCodeWorkerStuck = 4;

    // The supervisor's wait when nothing is due: a heartbeat that only bounds the wait.
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(30);
    private readonly TimeSpan _shortestLimit;

    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        TypeInfoResolver = ReportJsonContext.Default,
    };

    private readonly QueueApiOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<QueueEngine> _logger;
    // Looked up on every enqueue: a frozen dictionary, built once. The array keeps the queues in name order.
    private readonly FrozenDictionary<string, WorkQueue> _queues;
    private readonly WorkQueue[] _queueList;
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ManualResetEventSlim _attention = new(false);
    private readonly CountdownEvent _running;
    private readonly TaskCompletionSource<ShutdownReport> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stopLock = new();
    private readonly Thread _supervisor;
    private readonly List<PhaseTiming> _phases = [];
    private volatile int _state = (int)EngineState.Created;
    private FirstFailure? _firstFailure;
    private long _supervisorWakeAt = long.MaxValue;
    private ShutdownMode? _requestedMode;
    private StopReason _reason = StopReason.Requested;
    private DateTimeOffset _stopRequestedAt;
    private DateTimeOffset _deadline;
    private volatile ShutdownReport? _finalReport;
    private int _exitCode;

    public QueueEngine(
        IOptions<QueueApiOptions> options,
        Func<string, IMessageHandler> handlers,
        TimeProvider time,
        ILogger<QueueEngine> logger,
        Func<QueueEngine, EngineMetrics>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handlers);
        _options = options.Value;
        _time = time;
        _logger = logger;
        var queues = new List<WorkQueue>();
        foreach (var (name, o) in _options.Queues.OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            var queue = new WorkQueue(name, o, new ReadyQueue(o.Capacity), handlers(o.Handler), time);
            queue.Retry = QueuePipeline.Build(queue, time, _shutdown.Token);
            var workers = new Worker[o.Workers];
            for (var i = 0; i < workers.Length; i++)
            {
                workers[i] = new Worker(this, queue, i + 1, time, logger);
                _workers.Add(workers[i].Id, workers[i]);
            }

            queue.Workers = workers;
            queue.Breaker.Opened += until => LogCircuitOpened(_logger, name, until);
            queues.Add(queue);
        }

        _queueList = [.. queues];
        _shortestLimit = queues.Count == 0 ? Heartbeat : queues.Min(q => q.Options.AttemptTimeout);
        _queues = queues.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);

        _running = new CountdownEvent(Math.Max(1, _workers.Count));
        Metrics = metrics?.Invoke(this) ?? new EngineMetrics(new NullMeterFactory(), () => _queueList);
        _supervisor = new Thread(Supervise) { Name = "queueapi supervisor", IsBackground = true };
    }

    /// <summary>Cancelled when workers must stop now: at once in immediate mode, at the deadline when draining.</summary>
    public CancellationToken ShutdownToken => _shutdown.Token;

    public EngineState State => (EngineState)_state;

    public IReadOnlyCollection<WorkQueue> Queues => _queueList;

    public IReadOnlyCollection<Worker> Workers => _workers.Values;

    public QueueApiOptions Options => _options;

    public EngineMetrics Metrics { get; }

    /// <summary>0 after a clean stop; <see cref="ExitCodeWorkerFaulted"/> or <see cref="ExitCodeWorkerStuck"/> otherwise.</summary>
    public int ExitCode => Volatile.Read(ref _exitCode);

    public FirstFailure? FirstFailure => Volatile.Read(ref _firstFailure);

    /// <summary>Completes with the final report once every worker was joined or abandoned.</summary>
    public Task<ShutdownReport> Completion => _completion.Task;

    /// <summary>Raised (on the supervisor thread) when a failure means the whole process must stop.</summary>
    public event Action<QueueEngine>? FatalStop;

    public bool TryGetQueue(string name, out WorkQueue? queue) => _queues.TryGetValue(name, out queue);

    public bool TryGetWorker(string id, out Worker? worker) => _workers.TryGetValue(id, out worker);

    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, (int)EngineState.Running, (int)EngineState.Created) != (int)EngineState.Created)
        {
            return;
        }

        if (_workers.Count == 0)
        {
            _running.Signal();
        }

        foreach (var worker in _workers.Values)
        {
            worker.Start();
        }

        _supervisor.Start();
        LogStarted(_logger, _queues.Count, _workers.Count);
    }

    public EnqueueStatus Enqueue(string queueName, byte[] payload, out QueueMessage? message)
    {
        message = null;
        if (!_queues.TryGetValue(queueName, out var queue))
        {
            return EnqueueStatus.UnknownQueue;
        }

        if (State != EngineState.Running)
        {
            return EnqueueStatus.ShuttingDown;
        }

        var now = _time.GetUtcNow();
        var m = new QueueMessage(MessageId.Next(now), queue.Name, payload, now);
        var status = queue.Enqueue(m);
        if (status == EnqueueStatus.Accepted)
        {
            message = m;
        }

        return status;
    }

    public EnqueueStatus EnqueueBatch(string queueName, IReadOnlyList<byte[]> payloads, out IReadOnlyList<QueueMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        messages = [];
        if (!_queues.TryGetValue(queueName, out var queue))
        {
            return EnqueueStatus.UnknownQueue;
        }

        if (State != EngineState.Running)
        {
            return EnqueueStatus.ShuttingDown;
        }

        var now = _time.GetUtcNow();
        var batch = new QueueMessage[payloads.Count];
        var first = MessageId.NextRange(now, batch.Length);
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = new QueueMessage(first with { Seq = unchecked(first.Seq + (uint)i) }, queue.Name, payloads[i], now);
        }

        var status = queue.EnqueueBatch(batch);
        if (status == EnqueueStatus.Accepted)
        {
            messages = batch;
        }

        return status;
    }

    public DeadLetterResult Requeue(string queueName, string id) =>
        _queues.TryGetValue(queueName, out var q) ? q.Requeue(id) : DeadLetterResult.UnknownQueue;

    public DeadLetterResult DeleteDeadLetter(string queueName, string id) =>
        _queues.TryGetValue(queueName, out var q) ? q.DeleteDeadLetter(id) : DeadLetterResult.UnknownQueue;

    /// <summary>Fault injection: the worker's loop throws. False when there is no such worker or it is not running.</summary>
    public bool CrashWorker(string id)
    {
        if (!_workers.TryGetValue(id, out var w) || !w.Thread.IsAlive)
        {
            return false;
        }

        w.RequestCrash();
        return true;
    }

    /// <summary>Fault injection: the worker blocks and ignores its token, so it becomes stuck.</summary>
    public bool HangWorker(string id)
    {
        if (!_workers.TryGetValue(id, out var w) || !w.Thread.IsAlive)
        {
            return false;
        }

        w.RequestHang();
        return true;
    }

    /// <summary>Asks for a graceful stop. The supervisor runs it; await <see cref="Completion"/> for the end.</summary>
    public StopTicket RequestStop(ShutdownMode mode, StopReason reason = StopReason.Requested)
    {
        bool already;
        lock (_stopLock)
        {
            already = _requestedMode is not null || State is EngineState.Stopping or EngineState.Stopped;
            if (!already)
            {
                _requestedMode = mode;
                _reason = reason;
                _stopRequestedAt = _time.GetUtcNow();
                _deadline = _stopRequestedAt + (mode == ShutdownMode.Drain ? _options.Shutdown.DrainTimeout : TimeSpan.Zero) + _options.Shutdown.CancelGrace;
            }
        }

        if (!already)
        {
            LogStopRequested(_logger, mode, reason);
            if (State == EngineState.Created)
            {
                // Never started: nothing to drain, but the books and the report still close.
                Start();
            }

            StopIntake(mode);
            _attention.Set();
        }

        var queued = _queueList.Sum(q => (long)q.Store.Count);
        var inFlight = _queueList.Sum(q => q.Counts() is var c ? (long)c.InFlight + c.Retrying : 0);
        return new StopTicket(_requestedMode ?? mode, already, queued, inFlight, _deadline);
    }

    /// <summary>True while every worker lives, none faulted and none is stuck.</summary>
    public bool IsLive(out string reason)
    {
        if (FirstFailure is { } f)
        {
            reason = $"worker {f.WorkerId} {f.Kind}: {f.Message}";
            return false;
        }

        var now = _time.GetTimestamp();
        var stopping = State is EngineState.Stopping or EngineState.Stopped;
        foreach (var w in _workers.Values)
        {
            if (w.IsStuck(now))
            {
                reason = $"worker {w.Id} is stuck on {(w.CurrentMessage?.Id is { } id ? $"message {id}" : "a hang")} past its time limit";
                return false;
            }

            // Backstop for a fault signal that never came: a worker that ended while the engine runs.
            if (!stopping && State == EngineState.Running && !w.Thread.IsAlive)
            {
                reason = $"worker {w.Id} thread is not alive";
                return false;
            }
        }

        reason = State switch
        {
            EngineState.Running => $"{_workers.Count} workers alive",
            _ => $"engine {State.ToString().ToLowerInvariant()}",
        };
        return true;
    }

    /// <summary>True while the engine accepts work and is live.</summary>
    public bool IsReady(out string reason)
    {
        if (State != EngineState.Running || _requestedMode is not null)
        {
            reason = $"engine {(_requestedMode is not null ? "stopping" : State.ToString().ToLowerInvariant())}: not accepting messages";
            return false;
        }

        if (!IsLive(out reason))
        {
            return false;
        }

        reason = $"accepting messages on {_queueList.Length} queues";
        return true;
    }

    /// <summary>The final report once stopped; while stopping, a report of the stop so far; before, null.</summary>
    public ShutdownReport? Report() => _finalReport ?? (_requestedMode is null && FirstFailure is null ? null : BuildReport(complete: false, []));

    public static string ToJson(ShutdownReport report) => JsonSerializer.Serialize(report, ReportJson.GetTypeInfo(typeof(ShutdownReport)));

    internal void OnWorkerFaulted(Worker worker)
    {
        if (worker.Fault is { } f)
        {
            RecordFirstFailure(new FirstFailure(worker.Id, "faulted", f.Type, f.Message, f.MessageId, f.At), StopReason.WorkerFaulted, ExitCodeWorkerFaulted);
        }
    }

    internal void OnWorkerExited(Worker worker) => _running.Signal();

    /// <summary>Hot path: wake the supervisor only if this deadline comes before its next planned look.</summary>
    internal void OnDeadlineArmed(long deadline)
    {
        if (deadline < Volatile.Read(ref _supervisorWakeAt))
        {
            _attention.Set();
        }
    }

    private void RecordFirstFailure(FirstFailure failure, StopReason reason, int exitCode)
    {
        if (Interlocked.CompareExchange(ref _firstFailure, failure, null) is null)
        {
            Volatile.Write(ref _exitCode, exitCode);
            lock (_stopLock)
            {
                if (_requestedMode is null)
                {
                    _requestedMode = ShutdownMode.Immediate;
                    _stopRequestedAt = _time.GetUtcNow();
                    _deadline = _stopRequestedAt + _options.Shutdown.CancelGrace;
                }

                _reason = reason;
            }

            StopIntake(ShutdownMode.Immediate);
        }

        _attention.Set();
    }

    /// <summary>
    /// The first steps of every stop, taken at once on the caller's thread so workers start leaving while the
    /// supervisor wakes: refuse new messages, complete the stores (idle workers wake), and in immediate mode
    /// cancel the one shutdown token. The supervisor's wind-down repeats them harmlessly.
    /// </summary>
    private void StopIntake(ShutdownMode mode)
    {
        foreach (var q in _queueList)
        {
            q.StopAccepting();
            if (mode == ShutdownMode.Drain)
            {
                q.Resume(); // Draining finishes what was accepted, paused queues included.
            }
        }

        if (mode == ShutdownMode.Immediate)
        {
            _shutdown.Cancel();
        }
    }

    private void Supervise()
    {
        try
        {
            while (true)
            {
                _attention.Wait(NextLook());
                _attention.Reset();
                CheckStuck();
                if (FirstFailure is not null)
                {
                    LogWindingDown(_logger, FirstFailure.WorkerId, FirstFailure.Kind, FirstFailure.Exception, FirstFailure.Message);
                    FatalStop?.Invoke(this);
                    WindDown(ShutdownMode.Immediate);
                    return;
                }

                if (_requestedMode is { } mode)
                {
                    WindDown(mode);
                    return;
                }
            }
        }
#pragma warning disable CA1031 // The supervisor must never take the process down with it; it reports and finishes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Nobody watches the workers any more: stop taking messages no one may serve, stop every worker, stop
            // the host with a failure code, and fault the completion so whoever waits on it learns why.
            LogSupervisorFailed(_logger, ex);
            _state = (int)EngineState.Stopping;
            Interlocked.CompareExchange(ref _exitCode, ExitCodeWorkerFaulted, 0);
            StopIntake(ShutdownMode.Immediate);
            FatalStop?.Invoke(this);
            _completion.TrySetException(ex);
        }
    }

    /// <summary>How long the supervisor may sleep: until the earliest attempt deadline, or a heartbeat.</summary>
    private TimeSpan NextLook()
    {
        var earliest = long.MaxValue;
        foreach (var w in _workers.Values)
        {
            var d = w.Deadline;
            if (d > 0 && d < earliest)
            {
                earliest = d;
            }
        }

        Interlocked.Exchange(ref _supervisorWakeAt, earliest);
        // A worker that arms a deadline between the scan and the exchange compares it with the old wake time and
        // may not signal. Such a deadline lies at least one time limit after the scan, so never sleeping longer
        // than the shortest time limit still meets it.
        var remaining = earliest == long.MaxValue ? Heartbeat : _time.GetElapsedTime(_time.GetTimestamp(), earliest);
        remaining = remaining < _shortestLimit ? remaining : _shortestLimit;
        return remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining + TimeSpan.FromMilliseconds(1);
    }

    private void CheckStuck()
    {
        var now = _time.GetTimestamp();
        foreach (var w in _workers.Values)
        {
            w.TimeOut(now); // Past its attempt's limit: cancel the handler's token (a no-op otherwise).

            if (w.IsStuck(now) && w.Thread.IsAlive)
            {
                var message = w.CurrentMessage?.Id;
                LogStuck(_logger, w.Id, message ?? "(none: hang injection)", w.Queue.Options.AttemptTimeout, w.Queue.Options.StuckGrace);
                RecordFirstFailure(
                    new FirstFailure(w.Id, "stuck", "WorkerStuck", $"did not return within {w.Queue.Options.AttemptTimeout} plus a grace of {w.Queue.Options.StuckGrace} after its token was cancelled", message, _time.GetUtcNow()),
                    StopReason.WorkerStuck,
                    ExitCodeWorkerStuck);
                return;
            }
        }
    }

    private void WindDown(ShutdownMode mode)
    {
        _state = (int)EngineState.Stopping;
        var s = _options.Shutdown;
        var phase = Stopwatch.StartNew();

        StopIntake(mode);
        Phase("stop accepting", phase);

        if (mode == ShutdownMode.Drain)
        {
            var drained = WaitForWorkers(s.DrainTimeout, stopOnFailure: true);
            Phase(drained ? "drain" : "drain (deadline passed)", phase);
        }

        _shutdown.Cancel();
        WaitForWorkers(s.CancelGrace, stopOnFailure: false);
        Phase("cancel in-flight", phase);

        var abandoned = JoinAll(s.JoinTimeout);
        Phase("join", phase);

        var reason = FirstFailure is { } f ? $"worker {f.WorkerId} {f.Kind}"
            : mode == ShutdownMode.Immediate ? "immediate shutdown"
            : "drain deadline passed";
        foreach (var q in _queueList)
        {
            var dropped = 0;
            while (q.Store.TryTakeNow(out var m))
            {
                q.Drop(m!, reason);
                dropped++;
            }

            if (dropped > 0)
            {
                LogDropped(_logger, dropped, q.Name, reason);
            }
        }

        Phase("account", phase);
        var report = BuildReport(complete: true, abandoned);
        _finalReport = report;
        _state = (int)EngineState.Stopped;
        WriteReport(report);
        _completion.TrySetResult(report);
    }

    /// <summary>Waits for every worker to end, up to the timeout; while draining, a fault or a stuck worker cuts it short.</summary>
    private bool WaitForWorkers(TimeSpan timeout, bool stopOnFailure)
    {
        var until = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        var handles = new[] { _running.WaitHandle, _attention.WaitHandle };
        while (true)
        {
            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), until);
            if (_running.IsSet)
            {
                return true;
            }

            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            var next = NextLook();
            var hit = WaitHandle.WaitAny(handles, next < remaining ? next : remaining);
            if (hit == 1)
            {
                _attention.Reset();
            }

            CheckStuck();
            if (stopOnFailure && FirstFailure is not null)
            {
                return false;
            }
        }
    }

    private List<string> JoinAll(TimeSpan budget)
    {
        var until = _time.GetTimestamp() + (long)(budget.TotalSeconds * _time.TimestampFrequency);
        var abandoned = new List<string>();
        foreach (var w in _workers.Values)
        {
            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), until);
            if (!w.Thread.Join(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero))
            {
                // .NET cannot kill a thread; a background one will not keep the process alive.
                abandoned.Add(w.Id);
                LogAbandoned(_logger, w.Id, w.CurrentMessage?.Id);
            }
        }

        return abandoned;
    }

    private void Phase(string name, Stopwatch watch)
    {
        lock (_phases)
        {
            _phases.Add(new PhaseTiming(name, Math.Round(watch.Elapsed.TotalMilliseconds, 3)));
        }

        watch.Restart();
    }

    private ShutdownReport BuildReport(bool complete, IReadOnlyList<string> abandoned)
    {
        PhaseTiming[] phases;
        lock (_phases)
        {
            phases = [.. _phases];
        }

        return new ShutdownReport(
            complete,
            _reason,
            _requestedMode ?? ShutdownMode.Immediate,
            ExitCode,
            _stopRequestedAt,
            complete ? _time.GetUtcNow() : null,
            FirstFailure,
            phases,
            _queueList.ToDictionary(q => q.Name, q => q.Counts(), StringComparer.Ordinal),
            abandoned);
    }

    private void WriteReport(ShutdownReport report)
    {
        var json = ToJson(report);
        LogReport(_logger, report.Reason, report.ExitCode, json);
        if (string.IsNullOrWhiteSpace(_options.Shutdown.ReportPath))
        {
            return;
        }

        try
        {
            File.WriteAllText(_options.Shutdown.ReportPath, json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogReportWriteFailed(_logger, _options.Shutdown.ReportPath, ex);
        }
    }

    public void Dispose()
    {
        // Dispose means stop now: no draining, bounded by the configured grace and join timeouts.
        if (State == EngineState.Running)
        {
            RequestStop(ShutdownMode.Immediate);
            var budget = _options.Shutdown.CancelGrace + _options.Shutdown.JoinTimeout + TimeSpan.FromSeconds(1);
            _completion.Task.Wait(budget);
        }

        _shutdown.Cancel();
        if (_supervisor.ThreadState != System.Threading.ThreadState.Unstarted)
        {
            _supervisor.Join(TimeSpan.FromSeconds(1));
        }

        Metrics.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The circuit of queue {Queue} opened: its handler keeps failing; workers back off until {Until:O}, then one probe")]
    private static partial void LogCircuitOpened(ILogger logger, string queue, DateTimeOffset until);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue engine started: {Queues} queues, {Workers} worker threads.")]
    private static partial void LogStarted(ILogger logger, int queues, int workers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stop requested: mode {Mode}, reason {Reason}.")]
    private static partial void LogStopRequested(ILogger logger, ShutdownMode mode, StopReason reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Worker {Worker} {Kind} ({Exception}: {Reason}): stopping every worker and the host.")]
    private static partial void LogWindingDown(ILogger logger, string worker, string kind, string exception, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Worker {Worker} is stuck on {Message}: it ran past {Limit} and ignored its cancelled token for {Grace}.")]
    private static partial void LogStuck(ILogger logger, string worker, string message, TimeSpan limit, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Count} queued messages of {Queue}: {Reason}.")]
    private static partial void LogDropped(ILogger logger, int count, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Worker {Worker} did not stop in time and was abandoned (message {Message}).")]
    private static partial void LogAbandoned(ILogger logger, string worker, string? message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown report ({Reason}, exit code {ExitCode}): {Report}")]
    private static partial void LogReport(ILogger logger, StopReason reason, int exitCode, string report);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the shutdown report to {Path}.")]
    private static partial void LogReportWriteFailed(ILogger logger, string path, Exception ex);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The supervisor failed; every worker is cancelled.")]
    private static partial void LogSupervisorFailed(ILogger logger, Exception ex);

    private sealed class NullMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose() { }
    }
}
