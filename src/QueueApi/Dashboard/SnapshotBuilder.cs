using System.Text;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Workers;

namespace QueueApi.Dashboard;

/// <summary>
/// Builds a <see cref="DashboardSnapshot"/> from the engine's public views and the sampler. Cheap enough to run
/// once a second per open page: it reads the books (no lock the workers take) and copies at most
/// <see cref="DeadLettersShown"/> dead letters per queue under the dead-letter list's own lock.
/// </summary>
internal sealed class SnapshotBuilder(
    QueueEngine engine,
    ThroughputSampler sampler,
    TimeProvider time,
    IHostEnvironment environment,
    IEnumerable<IReplicaSource> replicaSources)
{
    /// <summary>The newest dead letters shown per queue; the queue's row counts them all.</summary>
    public const int DeadLettersShown = 50;

    /// <summary>Characters of a payload shown; the page offers the message lookup for the rest.</summary>
    public const int PayloadChars = 500;

    private readonly IReplicaSource? _replicas = replicaSources.FirstOrDefault();

    public DashboardSnapshot Build()
    {
        var now = time.GetUtcNow();
        var live = engine.IsLive(out var liveReason);
        var ready = engine.IsReady(out var readyReason);
        var queues = new List<DashboardQueue>();
        var workers = new List<DashboardWorker>();
        var deadLetters = new List<DashboardMessage>();
        foreach (var q in engine.Queues)
        {
            queues.Add(QueueOf(q));
            foreach (var w in q.Workers)
            {
                // Past its attempt's time limit and still busy: the supervisor is about to call it stuck.
                workers.Add(WorkerOf(w, q.Options.AttemptTimeout, now));
            }

            deadLetters.AddRange(NewestDeadLetters(q).Select(MessageOf));
        }

        // Dead letters have their own table; a failure seen retrying that ended there is shown once, there.
        var failures = sampler.Failures()
            .Where(m => m.Status is not MessageStatus.DeadLettered and not MessageStatus.Succeeded)
            .Select(MessageOf)
            .ToList();

        return new DashboardSnapshot(
            now,
            new EngineView(engine.State, live, ready, live ? readyReason : liveReason),
            !environment.IsDevelopment(),
            queues,
            workers,
            failures,
            [.. deadLetters.OrderByDescending(m => m.CompletedAt)],
            sampler.History(),
            engine.Report(),
            _replicas?.Replicas());
    }

    private DashboardQueue QueueOf(WorkQueue q)
    {
        var (inRate, outRate) = sampler.RatesOf(q.Name);
        return new DashboardQueue(QueueView.From(q), Math.Round(inRate, 1), Math.Round(outRate, 1));
    }

    private DashboardWorker WorkerOf(Worker w, TimeSpan attemptTimeout, DateTimeOffset now)
    {
        var view = WorkerView.From(w);
        var busy = view.State is WorkerState.Busy or WorkerState.Retrying;
        long? busyFor = busy && view.BusySince is { } since ? Math.Max(0, (long)(now - since).TotalMilliseconds) : null;
        return new DashboardWorker(view, busyFor, view.State == WorkerState.Busy && now - AttemptStart(view, now) > attemptTimeout);
    }

    /// <summary>
    /// When the current attempt began: a first attempt (or a hang, which has no message) began when the worker
    /// became busy; a retry, when the sampler first saw it, so a message's backoff never counts against its limit.
    /// </summary>
    private DateTimeOffset AttemptStart(WorkerView view, DateTimeOffset now) =>
        view.CurrentMessageId is { } id && view.CurrentAttempt is > 1 and var attempt
            ? sampler.AttemptSeenAt(view.Id, id, attempt) ?? now
            : view.BusySince ?? now;

    private static IEnumerable<QueueMessage> NewestDeadLetters(WorkQueue q)
    {
        var count = q.DeadLetterCount;
        return count <= DeadLettersShown ? q.DeadLetters(DeadLettersShown) : q.DeadLetters(count).TakeLast(DeadLettersShown);
    }

    private static DashboardMessage MessageOf(QueueMessage m)
    {
        var (payload, truncated) = PayloadText(m.Payload);
        return new DashboardMessage(m.Id, m.Queue, m.Status, m.Attempts, m.WorkerId, m.EnqueuedAt, m.CompletedAt, m.Error, payload, truncated);
    }

    /// <summary>The payload as text, cut to <see cref="PayloadChars"/>; the page shows it as text, never as markup.</summary>
    private static (string Text, bool Truncated) PayloadText(byte[] payload)
    {
        // Decode a little more than is shown: a UTF-8 character is at most four bytes.
        var bytes = payload.AsSpan(0, Math.Min(payload.Length, (PayloadChars * 4) + 4));
        var text = Encoding.UTF8.GetString(bytes);
        return text.Length > PayloadChars || bytes.Length < payload.Length ? (text[..Math.Min(text.Length, PayloadChars)], true) : (text, false);
    }
}
