namespace QueueApi.Storage.Postgres;

/// <summary>
/// The statements of issues 15 and 16 (delays, idempotency keys, cancels, priorities) for one schema. Times are
/// the store's clock in UTC ticks, passed in, so every replica (and a test's fake clock) decides the same way.
/// </summary>
internal sealed class FeatureSql(string s)
{
    /// <summary>A row's status as shown: a ready row whose due time ($now) lies ahead is scheduled, a claimed one queued.</summary>
    public static string Shown(string now, string alias = "") =>
        $"CASE WHEN {alias}status = 0 AND {alias}due_at > {now} THEN 8 WHEN {alias}status = 7 THEN 0 ELSE {alias}status END";

    /// <summary>
    /// The live keys among those asked for ($1 queues, $2 keys, one pair each), with the first message's id, body
    /// hash and status: its row's while it has one, else the final status noted when it was pruned, else dropped
    /// (a deleted dead letter). Run under the queues' advisory locks, so no other intake adds a key meanwhile.
    /// </summary>
    public readonly string FindKeys = $"""
        SELECT k.queue, k.key, k.id, k.request_hash, coalesce({Shown("$3", "m.")}, k.final, 6)::smallint
        FROM unnest($1::text[], $2::text[]) AS q(queue, key)
        JOIN {s}.idempotency_keys k ON k.queue = q.queue AND k.key = q.key
        LEFT JOIN {s}.messages m ON m.id = k.id
        WHERE k.expires_at > $3
        """;

    /// <summary>Forgets the keys of these queues ($1) whose window ended by $2 (prunes as keyed messages arrive).</summary>
    public readonly string ForgetKeys = $"DELETE FROM {s}.idempotency_keys WHERE queue = ANY($1::text[]) AND expires_at <= $2";

    /// <summary>A key's first use; an expired entry not yet forgotten is replaced.</summary>
    public readonly string AddKeys = $"""
        INSERT INTO {s}.idempotency_keys AS k (queue, key, id, request_hash, expires_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
        ON CONFLICT (queue, key) DO UPDATE SET id = excluded.id, request_hash = excluded.request_hash,
            expires_at = excluded.expires_at, final = NULL
        """;

    /// <summary>
    /// Cancels a message that no replica holds (ready or scheduled): dropped with reason $5, counted by this node
    /// ($4), at $3. Answers the status the row had when locked (none: no such message), so a claim racing the
    /// cancel either took it first (status 7: too late) or finds it dropped.
    /// </summary>
    public readonly string Cancel = $"""
        WITH t AS (SELECT pos, status FROM {s}.messages WHERE queue = $1 AND id = $2 FOR UPDATE),
        u AS (
            UPDATE {s}.messages m SET status = 6, error = $5, completed_at = $3, owner = NULL, next_attempt_at = NULL,
                finished = nextval('{s}.finish_order') * 100000
            FROM t WHERE m.pos = t.pos AND t.status = 0 RETURNING m.queue),
        d AS (
            INSERT INTO {s}.dropped AS d (queue, reason, n) SELECT queue, $5, 1 FROM u
            ON CONFLICT (queue, reason) DO UPDATE SET n = d.n + 1),
        c AS (
            INSERT INTO {s}.counts AS c (queue, node, dropped) SELECT queue, $4, 1 FROM u
            ON CONFLICT (queue, node) DO UPDATE SET dropped = c.dropped + 1)
        SELECT status FROM t
        """;

    /// <summary>This node's ($1) buffered claims ($2: rows not handed to a worker) go back, to be claimed again in order.</summary>
    public readonly string PutBack = $"UPDATE {s}.messages SET status = 0, owner = NULL WHERE pos = ANY($2::bigint[]) AND owner = $1 AND status = 7";

    /// <summary>The earliest time after $2 a ready row of queue $1 comes due: one index probe per priority lane.</summary>
    public readonly string NextDue = $"""
        SELECT min(l.ready_at) FROM generate_series(0, 9) p,
        LATERAL (SELECT ready_at FROM {s}.messages WHERE queue = $1 AND status = 0 AND priority = p AND ready_at > $2
                 ORDER BY ready_at LIMIT 1) l
        """;

    /// <summary>Waiting for a worker now ($2): claimed into a buffer, or ready and due.</summary>
    public readonly string WaitingCount = $"""
        SELECT count(*)::int FROM {s}.messages WHERE queue = $1 AND (status = 7 OR (status = 0 AND NOT coalesce(due_at > $2, false)))
        """;

    /// <summary>The waiting messages per priority, highest first, and since when the oldest of each is ready.</summary>
    public readonly string Lanes = $"""
        SELECT priority, count(*)::int, min(ready_at) FROM {s}.messages
        WHERE queue = $1 AND (status = 7 OR (status = 0 AND NOT coalesce(due_at > $2, false)))
        GROUP BY priority ORDER BY priority DESC
        """;
}
