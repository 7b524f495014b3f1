using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Tests;

public sealed class ProcessingTests
{
    [Fact]
    public void EnqueuedMessageIsProcessedOnAWorkerThreadAndSucceeds()
    {
        var threads = new System.Collections.Concurrent.ConcurrentBag<string?>();
        using var engine = TestEngine.Create(new DelegateHandler((_, _) =>
        {
            threads.Add(Thread.CurrentThread.Name);
            return ValueTask.CompletedTask;
        }));

        var message = engine.Enqueue("""{"hello": "world"}""");

        TestEngine.WaitFor(() => message.Status == MessageStatus.Succeeded, "the message to succeed");
        Assert.Equal(1, message.Attempts);
        Assert.NotNull(message.StartedAt);
        Assert.NotNull(message.CompletedAt);
        Assert.StartsWith("q-", message.WorkerId, StringComparison.Ordinal);
        Assert.Equal("""{"hello": "world"}"""u8.ToArray(), message.Payload);
        Assert.Equal($"queueapi {message.WorkerId}", Assert.Single(threads));
    }

    [Fact]
    public void EveryWorkerIsANamedBackgroundThread()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Workers = 3);

        Assert.Equal(3, engine.Workers.Count);
        Assert.All(engine.Workers, w =>
        {
            Assert.True(w.Thread.IsBackground);
            Assert.Equal($"queueapi {w.Id}", w.Thread.Name);
            Assert.True(w.Thread.IsAlive);
        });
    }

    [Fact]
    public void HandlerFailingTwiceThenSucceedingEndsSucceededWithThreeAttempts()
    {
        using var engine = TestEngine.Create(new DelegateHandler((ctx, _) =>
            ctx.Attempt <= 2 ? throw new InvalidOperationException($"attempt {ctx.Attempt}") : ValueTask.CompletedTask));

        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.IsFinished, "the message to finish");
        Assert.Equal(MessageStatus.Succeeded, message.Status);
        Assert.Equal(3, message.Attempts);
        Assert.Null(message.Error);
    }

    [Fact]
    public void AlwaysFailingMessageIsDeadLetteredAfterExactlyMaxAttemptsAndCanBeRequeued()
    {
        var fail = true;
        using var engine = TestEngine.Create(
            new DelegateHandler((_, _) => Volatile.Read(ref fail) ? throw new InvalidOperationException("poison") : ValueTask.CompletedTask),
            q => q.MaxAttempts = 4);
        var queue = engine.Queues.Single();

        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.IsFinished, "the message to finish");
        Assert.Equal(MessageStatus.DeadLettered, message.Status);
        Assert.Equal(4, message.Attempts);
        Assert.Contains("poison", message.Error, StringComparison.Ordinal);
        Assert.Equal(message.Id, Assert.Single(queue.DeadLetters(10)).Id);
        Assert.Equal(1, queue.Counts().DeadLettered);

        Volatile.Write(ref fail, false);
        Assert.Equal(DeadLetterResult.Done, engine.Requeue("q", message.Id));

        TestEngine.WaitFor(() => message.Status == MessageStatus.Succeeded, "the requeued message to succeed");
        Assert.Equal(1, message.Attempts);
        Assert.Empty(queue.DeadLetters(10));
        var counts = queue.Counts();
        Assert.Equal((1, 1, 0L), (counts.Accepted, counts.Succeeded, counts.DeadLettered));
        Assert.True(counts.Balanced);
    }

    [Fact]
    public void DeletingADeadLetterCountsItAsDroppedWithAReason()
    {
        using var engine = TestEngine.Create(new DelegateHandler((_, _) => throw new InvalidOperationException("poison")), q => q.MaxAttempts = 1);
        var message = engine.Enqueue();
        TestEngine.WaitFor(() => message.IsFinished, "the message to finish");

        Assert.Equal(DeadLetterResult.Done, engine.DeleteDeadLetter("q", message.Id));
        Assert.Equal(DeadLetterResult.NotFound, engine.DeleteDeadLetter("q", message.Id));

        var counts = engine.Queues.Single().Counts();
        Assert.Equal(0, counts.DeadLettered);
        Assert.Equal(1, counts.Dropped);
        Assert.Equal(1, counts.DroppedReasons["deleted from dead letters"]);
        Assert.True(counts.Balanced);
    }

    [Fact]
    public void DeadLettersAreBoundedAndTheOldestIsEvictedButStillCounted()
    {
        using var engine = TestEngine.Create(
            new DelegateHandler((_, _) => throw new InvalidOperationException("poison")),
            q =>
            {
                q.Workers = 1;
                q.MaxAttempts = 1;
                q.DeadLetterCapacity = 2;
                q.CircuitBreaker.Enabled = false;
            });
        var queue = engine.Queues.Single();

        var messages = Enumerable.Range(0, 3).Select(_ => engine.Enqueue()).ToList();

        TestEngine.WaitFor(() => messages.All(m => m.IsFinished), "the messages to finish");
        Assert.Equal(messages.Skip(1).Select(m => m.Id), queue.DeadLetters(10).Select(m => m.Id));
        Assert.Equal(3, queue.Counts().DeadLettered);
        Assert.False(queue.TryGetMessage(messages[0].Id, out _));
        Assert.True(queue.Counts().Balanced);
    }

    [Fact]
    public void PermanentFailureEndsFailedAfterOneAttempt()
    {
        using var engine = TestEngine.Create(new DelegateHandler((_, _) => throw new PermanentMessageException("bad input")));

        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.IsFinished, "the message to finish");
        Assert.Equal(MessageStatus.Failed, message.Status);
        Assert.Equal(1, message.Attempts);
        Assert.Equal("bad input", message.Error);
    }

    [Fact]
    public void RetryingMessageShowsItsNextAttemptAndItsWorkerShowsRetrying()
    {
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler((ctx, _) => ctx.Attempt == 1 ? throw new InvalidOperationException("first") : ValueTask.CompletedTask),
            q =>
            {
                q.Workers = 1;
                q.BaseDelay = TimeSpan.FromSeconds(2);
                q.MaxDelay = TimeSpan.FromSeconds(2);
            },
            time: time);

        var message = engine.Enqueue();

        TestEngine.WaitFor(() => message.Status == MessageStatus.Retrying, "the message to wait for a retry");
        Assert.NotNull(message.NextAttemptAt);
        Assert.Equal("InvalidOperationException: first", message.Error);
        var worker = engine.Workers.Single();
        Assert.Equal(Workers.WorkerState.Retrying, worker.State);
        Assert.Same(message, worker.CurrentMessage);
        Assert.Equal(1, engine.Queues.Single().Counts().Retrying);
        Assert.InRange(message.NextAttemptAt!.Value, time.GetUtcNow(), time.GetUtcNow() + TimeSpan.FromSeconds(2));

        // The backoff is on the engine's clock: nothing happens until it passes.
        time.AdvanceUntil(() => message.Status == MessageStatus.Succeeded, TimeSpan.FromMilliseconds(250), "the retry to succeed");
        Assert.Equal(2, message.Attempts);
        Assert.Null(message.NextAttemptAt);
        Assert.Null(message.Error);
    }

    [Fact]
    public void AttemptTimeoutCancelsTheHandlersToken()
    {
        var cancelled = 0;
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler(async (_, ct) =>
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), ct);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelled);
                    throw;
                }
            }),
            q =>
            {
                q.AttemptTimeout = TimeSpan.FromMilliseconds(100);
                q.MaxAttempts = 2;
                q.StuckGrace = TimeSpan.FromHours(1); // the clock runs ahead of the threads here; being stuck is not the subject
            },
            time: time);

        var message = engine.Enqueue();

        time.AdvanceUntil(() => message.IsFinished, TimeSpan.FromMilliseconds(25), "the message to finish");
        Assert.Equal(MessageStatus.DeadLettered, message.Status);
        Assert.Equal(2, Volatile.Read(ref cancelled));
        Assert.Contains("Timeout", message.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AfterATimedOutAttemptTheNextMessageGetsAnUncancelledToken()
    {
        // One worker, so the second message runs on the same worker whose token the timeout cancelled.
        var tokens = new System.Collections.Concurrent.ConcurrentQueue<bool>();
        var time = FakeClock.Create();
        using var engine = TestEngine.Create(
            new DelegateHandler(async (context, ct) =>
            {
                tokens.Enqueue(ct.IsCancellationRequested);
                if (context.Payload.Span.SequenceEqual("\"slow\""u8))
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), ct);
                }
            }),
            q =>
            {
                q.Workers = 1;
                q.AttemptTimeout = TimeSpan.FromMilliseconds(100);
                q.MaxAttempts = 1;
                q.StuckGrace = TimeSpan.FromHours(1); // the clock runs ahead of the threads here; being stuck is not the subject
            },
            time: time);

        var slow = engine.Enqueue("\"slow\"");
        time.AdvanceUntil(() => slow.IsFinished, TimeSpan.FromMilliseconds(25), "the slow message to time out");
        var fast = engine.Enqueue("\"fast\"");
        TestEngine.WaitFor(() => fast.IsFinished, "the fast message to finish");

        Assert.Equal(MessageStatus.DeadLettered, slow.Status);
        Assert.Contains("TimeoutRejectedException", slow.Error, StringComparison.Ordinal);
        Assert.Equal(MessageStatus.Succeeded, fast.Status);
        Assert.Equal([false, false], tokens);
    }

    [Fact]
    public void EveryMessageStartsAfterItWasEnqueuedAndFinishesAfterItStarted()
    {
        // Workers reuse a finish time as the next start; a burst with idle gaps exercises both paths.
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.RetainFinished = 10_000);
        var messages = new List<QueueMessage>();
        for (var burst = 0; burst < 20; burst++)
        {
            for (var i = 0; i < 200; i++)
            {
                messages.Add(engine.Enqueue());
            }

            TestEngine.WaitFor(() => messages.All(m => m.IsFinished), "the burst to finish");
        }

        Assert.All(messages, m =>
        {
            Assert.True(m.StartedAt >= m.EnqueuedAt, $"{m.Id} started {m.StartedAt:O} before it was enqueued {m.EnqueuedAt:O}");
            Assert.True(m.CompletedAt >= m.StartedAt, $"{m.Id} completed {m.CompletedAt:O} before it started {m.StartedAt:O}");
        });
    }

    [Fact]
    public void FullQueueRefusesAtOnceInsteadOfBlocking()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Capacity = 2);
        var queue = engine.Queues.Single();
        queue.Pause();

        engine.Enqueue();
        engine.Enqueue();
        var status = engine.Enqueue("q", TestEngine.Json("{}"), out var refused);

        Assert.Equal(EnqueueStatus.Full, status);
        Assert.Null(refused);
        Assert.Equal(2, queue.Counts().Accepted);
    }

    [Fact]
    public void BatchIsAcceptedWholeOrNotAtAll()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q => q.Capacity = 5);
        var queue = engine.Queues.Single();
        queue.Pause();

        Assert.Equal(EnqueueStatus.Accepted, engine.EnqueueBatch("q", [.. Enumerable.Repeat(TestEngine.Json("1"), 3)], out var first));
        Assert.Equal(EnqueueStatus.Full, engine.EnqueueBatch("q", [.. Enumerable.Repeat(TestEngine.Json("2"), 3)], out var second));

        Assert.Equal(3, first.Count);
        Assert.Empty(second);
        Assert.Equal(3, queue.Counts().Queued);
        Assert.Equal(3, queue.Counts().Accepted);
        Assert.Equal(first.Select(m => m.Id).Order(StringComparer.Ordinal), first.Select(m => m.Id));
    }

    [Fact]
    public void UnknownQueueIsRefused()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok());

        Assert.Equal(EnqueueStatus.UnknownQueue, engine.Enqueue("nope", TestEngine.Json("{}"), out _));
    }

    [Fact]
    public void MessageIdsAreUniqueAndSortByTime()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => MessageId.Next(TimeProvider.System).ToString()).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.All(ids, id => Assert.Equal(20, id.Length));
    }

    [Fact]
    public void FinishedMessagesAreKeptOnlyUpToRetainFinishedTheLastOnes()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q =>
        {
            q.Workers = 1;
            q.RetainFinished = 3;
        });
        var queue = engine.Queues.Single();

        var messages = Enumerable.Range(0, 10).Select(_ => engine.Enqueue()).ToList();

        TestEngine.WaitFor(() => queue.Counts().Succeeded == 10, "all messages to succeed");
        Assert.Equal(messages.TakeLast(3), messages.Where(m => queue.TryGetMessage(m.Id, out _)));
    }

    [Fact]
    public void WorkersShareRetainFinishedAndNeverKeepMore()
    {
        using var engine = TestEngine.Create(DelegateHandler.Ok(), q =>
        {
            q.Workers = 3;
            q.RetainFinished = 4; // shares of 2, 1 and 1
        });
        var queue = engine.Queues.Single();

        var messages = Enumerable.Range(0, 200).Select(_ => engine.Enqueue()).ToList();

        TestEngine.WaitFor(() => queue.Counts().Succeeded == 200, "all messages to succeed");
        var kept = messages.Where(m => queue.TryGetMessage(m.Id, out _)).ToList();
        Assert.InRange(kept.Count, 1, 4);
        // Each worker keeps the last it finished: whichever worker finished the last message kept it.
        Assert.Contains(messages.OrderBy(m => m.CompletedAt).Last(), kept);
        Assert.All(kept, m => Assert.True(m.IsFinished));
    }
}
