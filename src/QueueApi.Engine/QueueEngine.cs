using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Engine.Supervision;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine;

/// <summary>
/// The engine's front door: the queues (each over its store), their worker threads and the supervisor that
/// watches them. Knows nothing of HTTP. It wires the parts together and hands each call to the one that owns it.
/// </summary>
public sealed partial class QueueEngine : IDisposable
{
    public const int ExitCodeWorkerFaulted = Supervisor.ExitCodeWorkerFaulted;
    public const int ExitCodeWorkerStuck = Supervisor.ExitCodeWorkerStuck;

    private readonly TimeProvider _time;
    private readonly ILogger<QueueEngine> _logger;
    // Looked up on every enqueue by name: a frozen dictionary, built once. The array keeps the queues in name order.
    private readonly FrozenDictionary<string, WorkQueue> _queues;
    private readonly WorkQueue[] _queueList;
    private readonly FrozenDictionary<string, Worker> _workers;
    private readonly Supervisor _supervisor;
    private readonly EngineHealth _health;
    private readonly ShutdownReporter _reporter;
    private readonly TaskCompletionSource<ShutdownReport> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile ShutdownReport? _finalReport;

    public QueueEngine(
        IOptions<QueueApiOptions> options,
        Func<string, IMessageHandler> handlers,
        TimeProvider time,
        ILogger<QueueEngine> logger,
        Func<QueueEngine, EngineMetrics>? metrics = null,
        IMessageStorage? storage = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handlers);
        Options = options.Value;
        _time = time;
        _logger = logger;
        Storage = storage ?? new MemoryStorage(time);
        _supervisor = new Supervisor(Options.Shutdown, time, logger);
        Metrics = metrics?.Invoke(this) ?? new EngineMetrics(new NullMeterFactory(), () => _queueList!);

        var queues = new List<WorkQueue>();
        foreach (var (name, o) in Options.Queues.OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            var runtime = new QueueRuntime(name, o, Storage.Open(name, o), handlers(o.Handler), time, _supervisor.ShutdownToken);
            var workers = new Worker[o.Workers];
            for (var i = 0; i < workers.Length; i++)
            {
                workers[i] = new Worker(runtime, i + 1, _supervisor, Metrics, time, logger);
            }

            runtime.Breaker.Opened += until => LogCircuitOpened(_logger, name, until);
            queues.Add(new WorkQueue(runtime, workers, time));
        }

        _queueList = [.. queues];
        _queues = queues.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);
        _workers = queues.SelectMany(q => q.Workers).ToFrozenDictionary(w => w.Id, StringComparer.Ordinal);
        _supervisor.Watch(_queueList, Storage.Threads);
        _supervisor.FatalStop += () => FatalStop?.Invoke(this);
        _supervisor.Stopped += OnStopped;
        _supervisor.Failed += ex => _completion.TrySetException(ex);
        _health = new EngineHealth(_supervisor, _workers.Values, Storage.Threads, _queueList.Length, time);
        _reporter = new ShutdownReporter(_supervisor, _queueList, Options.Shutdown, time, logger);
    }

    /// <summary>Cancelled when workers must stop now: at once in immediate mode, at the deadline when draining.</summary>
    public CancellationToken ShutdownToken => _supervisor.ShutdownToken;

    public EngineState State => _supervisor.Life.State;

    public IReadOnlyCollection<WorkQueue> Queues => _queueList;

    public IReadOnlyCollection<Worker> Workers => _workers.Values;

    public QueueApiOptions Options { get; }

    /// <summary>Where the messages are kept (registered in DI; memory unless configured otherwise).</summary>
    public IMessageStorage Storage { get; }

    public EngineMetrics Metrics { get; }

    /// <summary>0 after a clean stop; <see cref="ExitCodeWorkerFaulted"/> or <see cref="ExitCodeWorkerStuck"/> otherwise.</summary>
    public int ExitCode => _supervisor.ExitCode;

    public FirstFailure? FirstFailure => _supervisor.FirstFailure;

    /// <summary>Completes with the final report once every worker was joined or abandoned.</summary>
    public Task<ShutdownReport> Completion => _completion.Task;

    /// <summary>Raised (on the supervisor thread) when a failure means the whole process must stop.</summary>
    public event Action<QueueEngine>? FatalStop;

    public bool TryGetQueue(string name, out WorkQueue? queue) => _queues.TryGetValue(name, out queue);

    public bool TryGetWorker(string id, out Worker? worker) => _workers.TryGetValue(id, out worker);

    public void Start()
    {
        if (!_supervisor.Life.TryStart())
        {
            return;
        }

        foreach (var worker in _workers.Values)
        {
            worker.Start();
        }

        _supervisor.Start();
        LogStarted(_logger, _queues.Count, _workers.Count);
    }

    /// <summary>Enqueues by queue name and waits for the store's answer (at once for the memory store). For callers without the queue in hand.</summary>
    public EnqueueStatus Enqueue(string queueName, byte[] payload, out QueueMessage? message)
    {
        message = null;
        if (!_queues.TryGetValue(queueName, out var queue))
        {
            return EnqueueStatus.UnknownQueue;
        }

        var m = queue.NewMessage(payload);
        var status = Await(queue.EnqueueAsync(m, CancellationToken.None));
        message = status == EnqueueStatus.Accepted ? m : null;
        return status;
    }

    /// <summary>Enqueues all or none by queue name; see <see cref="Enqueue"/>.</summary>
    public EnqueueStatus EnqueueBatch(string queueName, IReadOnlyList<byte[]> payloads, out IReadOnlyList<QueueMessage> messages)
    {
        messages = [];
        if (!_queues.TryGetValue(queueName, out var queue))
        {
            return EnqueueStatus.UnknownQueue;
        }

        var batch = queue.NewBatch(payloads);
        var status = Await(queue.EnqueueBatchAsync(batch, CancellationToken.None));
        messages = status == EnqueueStatus.Accepted ? batch : [];
        return status;
    }

    public DeadLetterResult Requeue(string queueName, string id) =>
        _queues.TryGetValue(queueName, out var q) ? Await(q.RequeueAsync(id, CancellationToken.None)) : DeadLetterResult.UnknownQueue;

    public DeadLetterResult DeleteDeadLetter(string queueName, string id) =>
        _queues.TryGetValue(queueName, out var q) ? Await(q.DeleteDeadLetterAsync(id, CancellationToken.None)) : DeadLetterResult.UnknownQueue;

    /// <summary>
    /// A thread of the engine's other than a worker (the scheduler) died: recorded as the first failure, and the
    /// engine winds down as it does for a faulted worker.
    /// </summary>
    public void ReportFault(string threadName, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        // Stryker disable once String : the fault's Detail is never read for a reported fault (FirstFailure and the report take type, message and time, not the detail)
        _supervisor.OnWorkerFaulted(new WorkerFault(threadName, exception.GetType().FullName ?? exception.GetType().Name, exception.Message, null, _time.GetUtcNow(), ""));
    }

    /// <summary>Fault injection: the worker's loop throws. False when there is no such worker or it is not running.</summary>
    public bool CrashWorker(string id) => Inject(id, static w => w.RequestCrash());

    /// <summary>Fault injection: the worker blocks and ignores its token, so it becomes stuck.</summary>
    public bool HangWorker(string id) => Inject(id, static w => w.RequestHang());

    private bool Inject(string id, Action<Worker> fault)
    {
        if (!_workers.TryGetValue(id, out var w) || !w.Thread.IsAlive)
        {
            return false;
        }

        fault(w);
        return true;
    }

    /// <summary>Asks for a graceful stop. The supervisor runs it; await <see cref="Completion"/> for the end.</summary>
    public ShutdownAccepted RequestStop(ShutdownMode mode, StopReason reason = StopReason.Requested)
    {
        var life = _supervisor.Life;
        // Stryker disable once Logical : Start is idempotent (Life.TryStart refuses a second start), so calling it on a running or stopping engine does nothing
        if (!life.IsStopping && State == EngineState.Created)
        {
            // Never started: nothing to drain, but the books and the report still close.
            Start();
        }

        // Counted before the stop is set going: an immediate stop cancels the running handlers at once, and a count
        // taken after could miss a message its worker had already settled (a CI run saw 1 of 2).
        var queued = _queueList.Sum(q => (long)q.Store.QueuedCount);
        var inFlight = _queueList.Sum(q => q.Counts() is var c ? (long)c.InFlight + c.Retrying : 0);
        var already = !_supervisor.TryRequestStop(mode, reason);
        return new ShutdownAccepted(life.Mode ?? mode, already, queued, inFlight, life.Deadline);
    }

    /// <summary>True while every worker lives, none faulted and none is stuck.</summary>
    public bool IsLive(out string reason) => _health.IsLive(out reason);

    /// <summary>True while the engine accepts work and is live.</summary>
    public bool IsReady(out string reason) => _health.IsReady(out reason);

    /// <summary>The final report once stopped; while stopping, a report of the stop so far; before, null.</summary>
    public ShutdownReport? Report() =>
        _finalReport ?? (_supervisor.Life.Mode is null && FirstFailure is null ? null : _reporter.Build(complete: false, []));

    public static string ToJson(ShutdownReport report) => ShutdownReporter.ToJson(report);

    private void OnStopped(IReadOnlyList<string> abandoned)
    {
        var report = _reporter.Build(complete: true, abandoned);
        _finalReport = report;
        _supervisor.Life.End();
        _reporter.Write(report);
        _completion.TrySetResult(report);
    }

    // Stryker disable once Conditional : both branches yield the same result; the check only skips AsTask's allocation for an already completed ValueTask
    private static T Await<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    public void Dispose()
    {
        // Dispose means stop now: no draining, bounded by the configured grace and join timeouts.
        if (State == EngineState.Running)
        {
            RequestStop(ShutdownMode.Immediate);
            var budget = Options.Shutdown.CancelGrace + Options.Shutdown.JoinTimeout + TimeSpan.FromSeconds(1);
            _completion.Task.Wait(budget);
        }

        _supervisor.CancelNow();
        _supervisor.Join(TimeSpan.FromSeconds(1));
        foreach (var q in _queueList)
        {
            q.Runtime.Starts?.Dispose();
        }

        Metrics.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The circuit of queue {Queue} opened: its handler keeps failing; workers back off until {Until:O}, then one probe")]
    private static partial void LogCircuitOpened(ILogger logger, string queue, DateTimeOffset until);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue engine started: {Queues} queues, {Workers} worker threads.")]
    private static partial void LogStarted(ILogger logger, int queues, int workers);
}
