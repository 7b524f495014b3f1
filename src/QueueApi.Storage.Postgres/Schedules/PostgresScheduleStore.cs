using Npgsql;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres.Schedules;

/// <summary>
/// Schedules shared by every replica on one PostgreSQL schema: a change made through any replica is seen by all, and
/// survives restarts. Each occurrence is claimed by moving the schedule's cursor with a compare-and-set that, in the
/// same statement, notes a pending run (unique per schedule and occurrence) with the id of the message about to be
/// enqueued. A replica that dies between the claim and the record leaves the run pending; a live replica adopts it
/// once the dead one's lease has run out, and finishes it (decision record 0028).
/// </summary>
public sealed class PostgresScheduleStore : IScheduleStore
{
    private static readonly long PruneEveryMs = (long)TimeSpan.FromMinutes(10).TotalMilliseconds;

    private readonly PostgresStorage _storage;
    private readonly ScheduleSql _sql;
    private long _nextPrune;

    /// <summary>Creates the schedule tables in the storage's schema when missing (a start-up step of their own).</summary>
    public PostgresScheduleStore(PostgresStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _sql = new ScheduleSql(storage.Options.Schema);
        try
        {
            ScheduleSql.Migrate(storage.Db, storage.Options.Schema);
        }
        catch (Exception ex) when (Sql.IsOutage(ex))
        {
            throw new StorageUnavailableException($"PostgreSQL cannot be reached to create the schedule tables: {ex.Message}", ex);
        }
    }

    /// <summary>Other replicas' changes reach this one's scheduler within the storage's fallback poll.</summary>
    public TimeSpan? RefreshInterval => _storage.Options.PollInterval;

    public ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<StoredSchedule>>(_sql.List, [], cancellationToken, async r =>
        {
            var list = new List<StoredSchedule>();
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(Read(r));
            }

            return list;
        });

    public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(_sql.Get, [name], cancellationToken, async r => await r.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(r) : null);

    public async ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return (await ReadAsync(
            _sql.Put,
            [definition.Name, definition.Queue, definition.Cron, definition.TimeZone, definition.Payload, definition.Enabled,
             definition.Misfire.ToString(), definition.Priority, definition.Source.ToString(), now.UtcTicks],
            cancellationToken,
            async r => await r.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(r) : null).ConfigureAwait(false))!;
    }

    public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        RunAsync(async conn =>
        {
            using var cmd = Sql.Command(conn, _sql.Delete, null, name);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        });

    public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken) =>
        TryClaimAsync(name, expected, cursor, null, cancellationToken);

    public ValueTask<bool> TryClaimAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, PendingRun? pending, CancellationToken cancellationToken) =>
        ReadAsync(
            _sql.Claim,
            [name, expected.UtcTicks, cursor.UtcTicks, pending?.Occurrence.UtcTicks, _storage.NodeId, pending?.MessageId],
            cancellationToken,
            async r =>
            {
                await r.ReadAsync(cancellationToken).ConfigureAwait(false);
                return r.GetInt32(0) == 1 && (pending is null || r.GetInt32(1) == 1);
            });

    /// <summary>All the claims in one statement (one round trip), each decided alone as <see cref="TryClaimAsync"/> decides it.</summary>
    public ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<ScheduleClaim> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (claims.Count == 0)
        {
            return new([]);
        }

        return ReadAsync<IReadOnlyList<bool>>(
            _sql.ClaimMany,
            [claims.Select(c => c.Name).ToArray(), claims.Select(c => c.Expected.UtcTicks).ToArray(), claims.Select(c => c.Cursor.UtcTicks).ToArray(),
             claims.Select(c => c.Pending?.Occurrence.UtcTicks).ToArray(), _storage.NodeId, claims.Select(c => c.Pending?.MessageId).ToArray()],
            cancellationToken,
            async r =>
            {
                var won = new bool[claims.Count];
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    won[r.GetInt64(0) - 1] = r.GetBoolean(1);
                }

                return won;
            });
    }

    public async ValueTask<IReadOnlyList<PendingRun>> AdoptPendingRunsAsync(CancellationToken cancellationToken)
    {
        if (Environment.TickCount64 >= Interlocked.Read(ref _nextPrune))
        {
            Interlocked.Exchange(ref _nextPrune, Environment.TickCount64 + PruneEveryMs);
            await RunAsync(async conn =>
            {
                using var prune = Sql.Command(conn, _sql.Prune);
                return await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        return await ReadAsync<IReadOnlyList<PendingRun>>(_sql.Adopt, [_storage.NodeId, _storage.Options.LeaseTimeout], cancellationToken, async r =>
        {
            var runs = new List<PendingRun>();
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                runs.Add(new PendingRun(r.GetString(0), Utc(r.GetInt64(1)), r.GetString(2)));
            }

            return runs;
        }).ConfigureAwait(false);
    }

    public async ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await RunAsync(async conn =>
        {
            using var cmd = Sql.Command(conn, _sql.Record, null, name, run.Occurrence?.UtcTicks, run.At.UtcTicks, run.MessageId, run.Error);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>All the runs in one statement (one round trip).</summary>
    public async ValueTask RecordRunsAsync(IReadOnlyList<(string Name, ScheduleRun Run)> runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            return;
        }

        await RunAsync(async conn =>
        {
            using var cmd = Sql.Command(
                conn, _sql.RecordMany, null,
                runs.Select(r => r.Name).ToArray(), runs.Select(r => r.Run.Occurrence?.UtcTicks).ToArray(), runs.Select(r => r.Run.At.UtcTicks).ToArray(),
                runs.Select(r => r.Run.MessageId).ToArray(), runs.Select(r => r.Run.Error).ToArray());
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private ValueTask<T> ReadAsync<T>(string sql, object?[] args, CancellationToken cancellationToken, Func<NpgsqlDataReader, Task<T>> read) =>
        RunAsync(async conn =>
        {
            using var cmd = Sql.Command(conn, sql, null, args);
            var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await read(reader).ConfigureAwait(false);
            }
        });

    /// <summary>One pooled connection per call; an outage becomes <see cref="StorageUnavailableException"/> (a 503, a retried pass).</summary>
    private async ValueTask<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> work)
    {
        try
        {
            var conn = await _storage.Db.OpenConnectionAsync().ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                return await work(conn).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (Sql.IsOutage(ex) && ex is not OperationCanceledException)
        {
            throw new StorageUnavailableException($"PostgreSQL cannot be reached for schedules: {ex.Message}", ex);
        }
    }

    private static StoredSchedule Read(NpgsqlDataReader r)
    {
        var definition = new ScheduleDefinition(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<byte[]>(4), r.GetBoolean(5),
            Enum.Parse<MisfirePolicy>(r.GetString(6)), r.GetInt32(7), Enum.Parse<ScheduleSource>(r.GetString(8)));
        var run = r.IsDBNull(11) ? null : new ScheduleRun(
            r.IsDBNull(10) ? null : Utc(r.GetInt64(10)), Utc(r.GetInt64(11)), r.IsDBNull(12) ? null : r.GetString(12), r.IsDBNull(13) ? null : r.GetString(13));
        return new StoredSchedule(definition, Utc(r.GetInt64(9)), run);
    }

    private static DateTimeOffset Utc(long ticks) => new(ticks, TimeSpan.Zero);
}
