using System.Net.Sockets;
using Npgsql;

namespace QueueApi.Storage.Postgres;

/// <summary>The statements of one schema, formatted once; positional parameters ($1...) throughout.</summary>
internal sealed class Sql(string s)
{
    public const string MessageColumns =
        "id, payload, status, attempts, worker, enqueued_at, started_at, completed_at, next_attempt_at, error, due_at, priority, trace_parent";

    /// <summary>What issues 15 and 16 added: delays, keys, cancels, priorities.</summary>
    public FeatureSql Features { get; } = new(s);

    /// <summary>
    /// Claims the best ready messages of a queue into this replica's buffer, skipping rows another replica is
    /// claiming. Ready: due by $3 (the store's clock, in UTC ticks). Best: the priority rule (decision 0026),
    /// effective = least(9, priority + waited / aging $6), ties to the longer waiting. Within one priority the
    /// effective priority falls as ready_at rises, so the best rows are among the first $4 of each priority's index
    /// lane (ten short index scans, each locking SKIP LOCKED), of which the best $4 are kept and the rest unlocked
    /// at the statement's end. $5: only messages this replica accepted (a stopping replica drains its own). $7: only
    /// those whose effective priority is above it (-1: any). $8, $9: per lane (index priority + 1), the (ready_at, pos)
    /// the lane is scanned above (<see cref="ClaimFloors"/>; the least bigint: from the start), an index condition.
    /// </summary>
    public readonly string Claim = $"""
        WITH c AS (
            SELECT l.pos, l.eff FROM generate_series(9, 0, -1) p,
            LATERAL (SELECT pos, ready_at,
                            CASE WHEN $6 > 0 THEN least(9, priority + greatest(0, $3 - ready_at) / $6) ELSE priority END AS eff
                     FROM {s}.messages
                     WHERE queue = $2 AND status = 0 AND priority = p AND ready_at <= $3
                       AND (ready_at, pos) > (($8::bigint[])[p + 1], ($9::bigint[])[p + 1])
                       AND (next_attempt_at IS NULL OR next_attempt_at <= $3) AND (NOT $5 OR origin = $1)
                     ORDER BY ready_at, pos LIMIT $4 FOR UPDATE SKIP LOCKED) l
            WHERE l.eff > $7
            ORDER BY l.eff DESC, l.ready_at, l.pos LIMIT $4)
        UPDATE {s}.messages m SET status = 7, owner = $1, claims = m.claims + 1
        FROM c WHERE m.pos = c.pos
        RETURNING m.pos, m.claims, m.ready_at, {MessageColumns}
        """;

    /// <summary>
    /// Writes a batch of outcome reports (finish order: the batch's sequence value times 100000 plus the report's
    /// place in it, so the oldest finished is pruned first), each guarded by owner and claim: a report from a replica that lost the
    /// message (rescued after its lease ran out) matches no row, so it changes nothing and counts nothing.
    /// </summary>
    public readonly string Report = $"""
        WITH b AS (SELECT nextval('{s}.finish_order') * 100000 AS base),
        i AS (
            SELECT * FROM unnest($2::bigint[], $3::int[], $4::smallint[], $5::int[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::bigint[])
                WITH ORDINALITY AS t(pos, claims, status, attempts, worker, started_at, next_attempt_at, error, completed_at, ord)),
        u AS (
            UPDATE {s}.messages m SET status = i.status, attempts = i.attempts, worker = i.worker, started_at = i.started_at,
                next_attempt_at = i.next_attempt_at, error = i.error, completed_at = i.completed_at,
                owner = CASE WHEN i.status IN (1, 2) THEN m.owner END,
                finished = CASE WHEN i.status IN (3, 4, 5) THEN b.base + i.ord END
            FROM i, b WHERE m.pos = i.pos AND m.owner = $1 AND m.claims = i.claims AND m.status IN (1, 2, 7)
            RETURNING m.queue, m.status)
        INSERT INTO {s}.counts AS c (queue, node, succeeded, failed, dead_lettered)
        SELECT queue, $1, count(*) FILTER (WHERE status = 3), count(*) FILTER (WHERE status = 4), count(*) FILTER (WHERE status = 5)
        FROM u GROUP BY queue
        ON CONFLICT (queue, node) DO UPDATE SET succeeded = c.succeeded + excluded.succeeded,
            failed = c.failed + excluded.failed, dead_lettered = c.dead_lettered + excluded.dead_lettered
        """;

    /// <summary>
    /// Finished messages past RetainFinished ($2) and dead letters past DeadLetterCapacity ($3) leave the table;
    /// their idempotency keys note how they ended, for a repeat within the window.
    /// </summary>
    public readonly string Prune = $"""
        WITH r AS (DELETE FROM {s}.messages WHERE queue = $1 AND status IN (3, 4, 6) AND finished <=
            (SELECT finished FROM {s}.messages WHERE queue = $1 AND status IN (3, 4, 6) ORDER BY finished DESC OFFSET $2 LIMIT 1)
            RETURNING id, status, idempotency_key),
        d AS (DELETE FROM {s}.messages WHERE queue = $1 AND status = 5 AND finished <=
            (SELECT finished FROM {s}.messages WHERE queue = $1 AND status = 5 ORDER BY finished DESC OFFSET $3 LIMIT 1)
            RETURNING id, status, idempotency_key)
        UPDATE {s}.idempotency_keys k SET final = g.status
        FROM (SELECT * FROM r UNION ALL SELECT * FROM d) g
        WHERE g.idempotency_key IS NOT NULL AND k.queue = $1 AND k.key = g.idempotency_key AND k.id = g.id
        """;

    /// <summary>A message's MaxCrashes: its queue's ($5 names, $6 values) where this replica serves it, else $3.</summary>
    private const string MaxCrashes = "(SELECT coalesce(max(t.mc), $3) FROM unnest($5::text[], $6::int[]) AS t(q, mc) WHERE t.q = m.queue)";

    /// <summary>
    /// Puts back what dead replicas (silent past the lease, or stopped) had claimed, exactly once: the node row is
    /// marked in the same statement and each message row is locked by the update. A message that was in flight
    /// counts a crash; at its queue's MaxCrashes it is dead-lettered instead ($4: now, in UTC ticks).
    /// </summary>
    public readonly string Rescue = $"""
        WITH dead AS (
            UPDATE {s}.nodes n SET rescued_at = now()
            WHERE n.id <> $1 AND (n.stopped_at IS NOT NULL OR n.heartbeat_at < now() - $2::interval)
              AND (n.rescued_at IS NULL OR n.heartbeat_at > n.rescued_at)
            RETURNING n.id),
        r AS (
            UPDATE {s}.messages m SET
                status = CASE WHEN m.status = 7 OR m.crashes + 1 < {MaxCrashes} THEN 0 ELSE 5 END,
                crashes = m.crashes + CASE WHEN m.status = 7 THEN 0 ELSE 1 END,
                error = CASE WHEN m.status = 7 OR m.crashes + 1 < {MaxCrashes} THEN m.error
                        ELSE 'in flight when its replica died ' || (m.crashes + 1) || ' times (MaxCrashes ' || {MaxCrashes} || ')' END,
                finished = CASE WHEN m.status = 7 OR m.crashes + 1 < {MaxCrashes} THEN NULL ELSE nextval('{s}.finish_order') * 100000 END,
                completed_at = CASE WHEN m.status = 7 OR m.crashes + 1 < {MaxCrashes} THEN NULL ELSE $4 END,
                owner = NULL, worker = NULL
            FROM dead WHERE m.owner = dead.id
            RETURNING m.queue, m.status),
        c AS (
            INSERT INTO {s}.counts AS c (queue, node, dead_lettered)
            SELECT queue, $1, count(*) FROM r WHERE status = 5 GROUP BY queue
            ON CONFLICT (queue, node) DO UPDATE SET dead_lettered = c.dead_lettered + excluded.dead_lettered)
        SELECT count(*)::int, count(*) FILTER (WHERE status = 5)::int FROM r
        """;

    public readonly string Heartbeat = $"""
        UPDATE {s}.nodes n SET heartbeat_at = now(), rescued_at = NULL, stopped_at = NULL, workers = $2
        FROM (SELECT rescued_at FROM {s}.nodes WHERE id = $1 FOR UPDATE) old
        WHERE n.id = $1 RETURNING old.rescued_at IS NOT NULL
        """;

    public readonly string RegisterNode = $"INSERT INTO {s}.nodes (host, pid, workers) VALUES ($1, $2, '') RETURNING id";

    public readonly string StopNode = $"UPDATE {s}.nodes SET stopped_at = now() WHERE id = $1";

    public readonly string Nodes = $"""
        SELECT id, host, pid, started_at, heartbeat_at, stopped_at, workers,
               stopped_at IS NULL AND heartbeat_at >= now() - $1::interval AS alive
        FROM {s}.nodes ORDER BY id
        """;

    public readonly string ForgetNodes = $"""
        DELETE FROM {s}.nodes n WHERE n.heartbeat_at < now() - interval '1 day' AND n.rescued_at >= n.heartbeat_at
        """;

    public readonly string Paused = $"SELECT queue, paused FROM {s}.queues";

    public readonly string SetPaused = $"""
        INSERT INTO {s}.queues AS q (queue, paused) VALUES ($1, $2) ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused
        """;

    public readonly string EnsureQueue = $"INSERT INTO {s}.queues (queue) VALUES ($1) ON CONFLICT DO NOTHING";

    public readonly string LockQueues = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) k ORDER BY k";

    /// <summary>Messages stored per queue (accepted and not finished), from the counters: no scan of the rows.</summary>
    /// <remarks>
    /// What workers hold (claimed, in flight, retrying) leaves the room it took, as in every store: the capacity
    /// bounds what waits. Counted from a small partial index of those rows.
    /// </remarks>
    public readonly string Depths = $"""
        SELECT q, coalesce((SELECT sum(accepted - succeeded - failed - dead_lettered - dropped) FROM {s}.counts WHERE queue = q), 0)::bigint
                  - (SELECT count(*) FROM {s}.messages WHERE queue = q AND status IN (1, 2, 7))
        FROM unnest($1::text[]) q
        """;

    /// <summary>A message is ready from its enqueue, or from its due time if that is later (the aging base).</summary>
    public readonly string Insert = $"""
        INSERT INTO {s}.messages (id, queue, payload, enqueued_at, origin, due_at, ready_at, priority, trace_parent, idempotency_key)
        SELECT id, queue, payload, enqueued_at, $1, due_at, greatest(enqueued_at, coalesce(due_at, 0)), priority, trace_parent, key
        FROM unnest($2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::bigint[], $7::smallint[], $8::text[], $9::text[])
            WITH ORDINALITY AS t(id, queue, payload, enqueued_at, due_at, priority, trace_parent, key, ord)
        ORDER BY ord
        """;

    public readonly string CountAccepted = $"""
        INSERT INTO {s}.counts AS c (queue, node, accepted) SELECT q, $1, count(*) FROM unnest($2::text[]) q GROUP BY q
        ON CONFLICT (queue, node) DO UPDATE SET accepted = c.accepted + excluded.accepted
        """;

    public readonly string Notify = "SELECT pg_notify($1, q) FROM unnest($2::text[]) q";

    public readonly string Get = $"SELECT {MessageColumns} FROM {s}.messages WHERE queue = $1 AND id = $2";

    public readonly string DeadLetters = $"SELECT {MessageColumns} FROM {s}.messages WHERE queue = $1 AND status = 5 ORDER BY finished LIMIT $2";

    public readonly string DeadLetterCount = $"SELECT count(*)::int FROM {s}.messages WHERE queue = $1 AND status = 5";

    /// <summary>Everything stored and not started (queued, claimed, scheduled): what a stop keeps.</summary>
    public readonly string QueuedCount = $"SELECT count(*)::int FROM {s}.messages WHERE queue = $1 AND status IN (0, 7)";

    /// <summary>The books of a queue: counters, live rows by status, dropped reasons (three statements, one batch).</summary>
    public readonly string[] Books =
    [
        $"""
        SELECT coalesce(sum(accepted), 0)::bigint, coalesce(sum(succeeded), 0)::bigint, coalesce(sum(failed), 0)::bigint,
               coalesce(sum(dead_lettered), 0)::bigint, coalesce(sum(dropped), 0)::bigint
        FROM {s}.counts WHERE queue = $1
        """,
        $"""
        SELECT count(*) FILTER (WHERE status = 7 OR (status = 0 AND NOT coalesce(due_at > $2, false)))::int,
               count(*) FILTER (WHERE status = 1)::int, count(*) FILTER (WHERE status = 2)::int,
               count(*) FILTER (WHERE status = 0 AND due_at > $2)::int
        FROM {s}.messages WHERE queue = $1 AND status IN (0, 1, 2, 7)
        """,
        $"SELECT reason, n FROM {s}.dropped WHERE queue = $1",
    ];


    /// <summary>A dead letter back at the tail of its queue with fresh attempts; it moves from dead-lettered to queued.</summary>
    public readonly string Requeue = $"""
        WITH m AS (
            UPDATE {s}.messages SET status = 0, pos = nextval('{s}.message_pos'), attempts = 0, crashes = 0, owner = NULL,
                worker = NULL, started_at = NULL, completed_at = NULL, next_attempt_at = NULL, finished = NULL, enqueued_at = $3,
                due_at = NULL, ready_at = $3
            WHERE queue = $1 AND id = $2 AND status = 5 RETURNING queue)
        INSERT INTO {s}.counts AS c (queue, node, dead_lettered) SELECT queue, $4, -1 FROM m
        ON CONFLICT (queue, node) DO UPDATE SET dead_lettered = c.dead_lettered - 1
        RETURNING 1
        """;

    public readonly string IsDeadLetter = $"SELECT 1 FROM {s}.messages WHERE queue = $1 AND id = $2 AND status = 5 FOR UPDATE";

    public readonly string Delete = $"""
        WITH m AS (DELETE FROM {s}.messages WHERE queue = $1 AND id = $2 AND status = 5 RETURNING queue),
        d AS (INSERT INTO {s}.dropped AS d (queue, reason, n) SELECT queue, $4, 1 FROM m
              ON CONFLICT (queue, reason) DO UPDATE SET n = d.n + 1)
        INSERT INTO {s}.counts AS c (queue, node, dead_lettered, dropped) SELECT queue, $3, -1, 1 FROM m
        ON CONFLICT (queue, node) DO UPDATE SET dead_lettered = c.dead_lettered - 1, dropped = c.dropped + 1
        RETURNING 1
        """;

    /// <summary>At a stop: this replica's buffered, unstarted claims go back to the queue (no attempt, no crash).</summary>
    public readonly string Unclaim = $"UPDATE {s}.messages SET status = 0, owner = NULL WHERE owner = $1 AND queue = $2 AND status = 7";

    /// <summary>A stable 64-bit key for an advisory lock (FNV-1a of the text: the same in every replica and build).</summary>
    public static long LockKey(string kind, string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in $"queueapi:{kind}:{name}")
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    /// <summary>Whether an exception means the database cannot be reached or written now (as opposed to a bug).</summary>
    public static bool IsOutage(Exception ex) => ex is NpgsqlException or SocketException or TimeoutException or IOException
        || (ex is InvalidOperationException && ex.InnerException is NpgsqlException);

    public static NpgsqlBatchCommand BatchCommand(string sql, params object?[] args)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a ?? DBNull.Value });
        }

        return cmd;
    }

    /// <remarks>A single array argument must be cast to object, or C# passes it as the params array itself.</remarks>
    public static NpgsqlCommand Command(NpgsqlConnection conn, string sql, NpgsqlTransaction? tx = null, params object?[] args)
    {
        var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a ?? DBNull.Value });
        }

        return cmd;
    }
}
