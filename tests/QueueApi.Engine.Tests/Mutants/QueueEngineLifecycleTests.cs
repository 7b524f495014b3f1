using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A second Start, a batch for an unknown queue, what Dispose releases, and the warnings the engine and its workers log.</summary>
public sealed class QueueEngineLifecycleTests
{
    /// <summary>Keeps every formatted log line, so a test can say which events were logged.</summary>
    private sealed class RecordingLogger : ILogger<QueueEngine>
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue((logLevel, formatter(state, exception)));

        public bool Has(LogLevel level, string part) => Lines.Any(l => l.Level == level && l.Text.Contains(part, StringComparison.Ordinal));
    }

    private static QueueEngine Create(RecordingLogger logger, Action<QueueOptions>? queue = null)
    {
        var q = new QueueOptions { Workers = 1, Handler = "test", AttemptTimeout = TimeSpan.FromSeconds(5), StuckGrace = TimeSpan.FromSeconds(1) };
        queue?.Invoke(q);
        var options = new QueueApiOptions { Queues = { ["q"] = q } };
        options.Shutdown.DrainTimeout = TimeSpan.FromSeconds(5);
        options.Shutdown.CancelGrace = TimeSpan.FromSeconds(1);
        options.Shutdown.JoinTimeout = TimeSpan.FromSeconds(1);
        var engine = new QueueEngine(Options.Create(options), _ => DelegateHandler.Ok(), TimeProvider.System, logger);
        engine.Start();
        return engine;
    }

    [Fact]
    public void StartingARunningEngineAgainDoesNothing()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        engine.Start();

        Assert.Equal(EngineState.Running, engine.State);
        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.Status == Messages.MessageStatus.Succeeded, "a message to run after the second start");
    }

    [Fact]
    public void ABatchForAnUnknownQueueIsRefusedWithNoMessages()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        Assert.Equal(EnqueueStatus.UnknownQueue, engine.EnqueueBatch("nope", [TestEngine.Json("{}")], out var messages));
        Assert.Empty(messages);
    }

    [Fact]
    public void DisposingTheEngineReleasesEachQueuesRateLimiter()
    {
        var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.RateLimit = new RateLimitOptions { PermitsPerSecond = 100, Burst = 5 });
        var limiter = engine.Queues.Single().Runtime.Starts!;

        engine.Dispose();

        Assert.Throws<ObjectDisposedException>(() => limiter.TryStartNow());
    }

    [Fact]
    public void AnOpeningCircuitIsLoggedAsAWarningNamingItsQueue()
    {
        var logger = new RecordingLogger();
        using var engine = Create(logger, q => q.CircuitBreaker = new CircuitBreakerOptions { MinimumThroughput = 2, FailureRatio = 0.5 });
        var breaker = engine.Queues.Single().Runtime.Breaker;
        var now = DateTimeOffset.UtcNow.UtcTicks;

        breaker.OnFailure(now, probe: false);
        breaker.OnFailure(now, probe: false);

        Assert.True(breaker.IsOpen);
        Assert.True(logger.Has(LogLevel.Warning, "The circuit of queue q opened"));
    }

    [Fact]
    public void ACrashedWorkerIsLoggedAsCritical()
    {
        var logger = new RecordingLogger();
        using var engine = Create(logger);
        var worker = engine.Workers.Single();

        Assert.True(engine.CrashWorker(worker.Id));

        TestEngine.WaitFor(() => logger.Has(LogLevel.Critical, $"Worker {worker.Id} faulted with InjectedFaultException"), "the fault to be logged");
    }

    [Fact]
    public void AHangingWorkerIsLoggedAsAWarning()
    {
        var logger = new RecordingLogger();
        using var engine = Create(logger);
        var worker = engine.Workers.Single();

        Assert.True(engine.HangWorker(worker.Id));

        TestEngine.WaitFor(() => logger.Has(LogLevel.Warning, $"Worker {worker.Id} hangs on purpose"), "the hang to be logged");
    }
}
