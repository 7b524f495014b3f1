using QueueApi.Engine;
using QueueApi.Engine.Messages;

namespace QueueApi.Dashboard;

/// <summary>
/// Once a second, reads every queue's books and keeps what the dashboard cannot ask the engine for: the last five
/// minutes of throughput, each queue's rates over the last second, and the failures it saw in workers' hands.
/// Off the hot path: reading the books takes no lock the workers take, and nothing here runs per message.
/// </summary>
internal sealed class ThroughputSampler(QueueEngine engine, TimeProvider time) : BackgroundService
{
    /// <summary>Seconds of history kept: the chart's five minutes.</summary>
    public const int Seconds = 300;

    /// <summary>Failures kept for the "recent failures" list.</summary>
    public const int FailuresKept = 50;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly long[] _succeeded = new long[Seconds];
    private readonly long[] _failed = new long[Seconds];
    private readonly Dictionary<string, Totals> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Rate> _rates = new(StringComparer.Ordinal);
    // Insertion-ordered, so the oldest failure leaves first.
    private readonly OrderedDictionary<string, QueueMessage> _failures = new(StringComparer.Ordinal);
    // When each worker was first seen on its current attempt: the engine shows when a message started, not a retry.
    private readonly Dictionary<string, AttemptSeen> _attempts = new(StringComparer.Ordinal);
    private int _filled;
    private int _next;
    private long _lastTimestamp;
    private DateTimeOffset _end;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Sample();
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            // Keeps sampling while the engine drains (that runs before the host's StopAsync), so the chart shows it.
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
            // The host is stopping: nothing more to sample.
        }
    }

    /// <summary>Takes one sample now. Called by the timer; tests call it to step time without waiting.</summary>
    internal void Sample()
    {
        var now = time.GetTimestamp();
        long succeeded = 0, failed = 0;
        var first = _lastTimestamp == 0;
        var seconds = first ? 1 : Math.Max(time.GetElapsedTime(_lastTimestamp, now).TotalSeconds, 0.001);
        var utcNow = time.GetUtcNow();
        lock (_lock)
        {
            foreach (var q in engine.Queues)
            {
                var c = q.Counts();
                var totals = new Totals(c.Accepted, c.Succeeded, c.Failed + c.DeadLettered, c.Succeeded + c.Failed + c.DeadLettered + c.Dropped);
                if (_last.TryGetValue(q.Name, out var before))
                {
                    succeeded += totals.Succeeded - before.Succeeded;
                    // Requeueing a dead letter lowers the count; a rate is never negative.
                    failed += Math.Max(0, totals.Failed - before.Failed);
                    _rates[q.Name] = new Rate(
                        Math.Max(0, totals.Accepted - before.Accepted) / seconds,
                        Math.Max(0, totals.Finished - before.Finished) / seconds);
                }

                _last[q.Name] = totals;
                foreach (var w in q.Workers)
                {
                    var m = w.CurrentMessage;
                    // A message whose attempt failed carries its error while it waits for the next one.
                    if (m is { Error: not null })
                    {
                        Remember(m);
                    }

                    var seen = new AttemptSeen(m?.Id, m?.Attempts ?? 0, utcNow);
                    if (!_attempts.TryGetValue(w.Id, out var last) || last.MessageId != seen.MessageId || last.Attempt != seen.Attempt)
                    {
                        _attempts[w.Id] = seen;
                    }
                }
            }

            _lastTimestamp = now;
            _end = utcNow;
            if (!first)
            {
                _succeeded[_next] = succeeded;
                _failed[_next] = failed;
                _next = (_next + 1) % Seconds;
                _filled = Math.Min(_filled + 1, Seconds);
            }
        }
    }

    /// <summary>Messages in and out per second of one queue, over the last sample.</summary>
    public (double In, double Out) RatesOf(string queue)
    {
        lock (_lock)
        {
            return _rates.TryGetValue(queue, out var r) ? (r.In, r.Out) : (0, 0);
        }
    }

    /// <summary>
    /// When the sampler first saw the worker on this attempt of this message (so up to a second late), or null
    /// when it has not seen it yet.
    /// </summary>
    public DateTimeOffset? AttemptSeenAt(string workerId, string messageId, int attempt)
    {
        lock (_lock)
        {
            return _attempts.TryGetValue(workerId, out var seen) && seen.MessageId == messageId && seen.Attempt == attempt ? seen.Since : null;
        }
    }

    /// <summary>The throughput history, oldest first.</summary>
    public ThroughputHistory History()
    {
        lock (_lock)
        {
            var succeeded = new long[_filled];
            var failed = new long[_filled];
            var start = (_next - _filled + Seconds) % Seconds;
            for (var i = 0; i < _filled; i++)
            {
                succeeded[i] = _succeeded[(start + i) % Seconds];
                failed[i] = _failed[(start + i) % Seconds];
            }

            return new ThroughputHistory(_end, (int)Interval.TotalMilliseconds, succeeded, failed);
        }
    }

    /// <summary>The failures seen, newest first, as they are now (a retry may have succeeded since).</summary>
    public IReadOnlyList<QueueMessage> Failures()
    {
        lock (_lock)
        {
            var list = new List<QueueMessage>(_failures.Count);
            for (var i = _failures.Count - 1; i >= 0; i--)
            {
                list.Add(_failures.GetAt(i).Value);
            }

            return list;
        }
    }

    private void Remember(QueueMessage message)
    {
        var id = message.Id;
        if (_failures.ContainsKey(id))
        {
            return;
        }

        _failures[id] = message;
        if (_failures.Count > FailuresKept)
        {
            _failures.RemoveAt(0);
        }
    }

    private readonly record struct Totals(long Accepted, long Succeeded, long Failed, long Finished);

    private readonly record struct Rate(double In, double Out);

    private readonly record struct AttemptSeen(string? MessageId, int Attempt, DateTimeOffset Since);
}
