using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Storage;

namespace QueueApi.Storage.Postgres;

/// <summary>
/// Queues shared by many replicas through one PostgreSQL database. Each replica is a node: it registers a row,
/// renews its heartbeat, and puts back what dead peers had claimed (<see cref="NodeMonitor"/>).
/// </summary>
public sealed partial class PostgresStorage : IMessageStorage, INodeDirectory
{
    private readonly ConcurrentDictionary<string, PostgresQueueStore> _stores = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly NodeMonitor _monitor;
    private int _disposed;
    private volatile string? _outage;

    public PostgresStorage(PostgresStorageOptions options, TimeProvider time, ILogger<PostgresStorage> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Time = time;
        _logger = logger;
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        // Every wait bounded: connecting and each command have a limit unless the connection string sets one.
        if (!options.ConnectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 5;
            builder.CommandTimeout = 15;
        }

        builder.ApplicationName ??= "queueapi";
        Db = NpgsqlDataSource.Create(builder.ConnectionString);
        Sql = new Sql(options.Schema);
        Channel = $"{options.Schema}_events";
        try
        {
            Schema.Migrate(Db, options.Schema);
            using var conn = Db.OpenConnection();
            using var register = Postgres.Sql.Command(conn, Sql.RegisterNode, null, Environment.MachineName, Environment.ProcessId);
            NodeId = (long)register.ExecuteScalar()!;
        }
        catch (Exception ex) when (Postgres.Sql.IsOutage(ex))
        {
            Db.Dispose();
            throw new StorageUnavailableException($"PostgreSQL at {builder.Host}:{builder.Port} (database {builder.Database}) cannot be reached: {ex.Message}", ex);
        }

        Outcomes = new OutcomeWriter(Db, Sql, NodeId, logger, Healthy);
        Intake = new IntakeWriter(Db, Sql, NodeId, Channel, time, logger, Healthy, () => Outcomes.Flush(TimeSpan.FromSeconds(2)));
        _monitor = new NodeMonitor(this, logger);
        LogStarted(_logger, NodeId, builder.Host ?? "", options.Schema);
    }

    public string Provider => PostgresStorageOptions.ProviderName;

    public bool IsDurable => true;

    /// <summary>All of them, shared: keys, cancels and due times are in the database every replica reads.</summary>
    public StoreFeatures Features => StoreFeatures.All;

    /// <summary>This replica's node id (its row in the nodes table).</summary>
    public long NodeId { get; }

    internal PostgresStorageOptions Options { get; }

    internal TimeProvider Time { get; }

    internal NpgsqlDataSource Db { get; }

    internal Sql Sql { get; }

    internal string Channel { get; }

    internal IntakeWriter Intake { get; }

    internal OutcomeWriter Outcomes { get; }

    /// <summary>The intake and outcome writers and the node thread (heartbeat, LISTEN, rescue): the supervisor watches all three.</summary>
    public IReadOnlyList<Thread> Threads => [Intake.Thread, Outcomes.Thread, _monitor.Thread];

    /// <summary>True from a failed round trip until the next one succeeds.</summary>
    internal bool InOutage => _outage is not null;

    internal IReadOnlyCollection<PostgresQueueStore> Stores => (IReadOnlyCollection<PostgresQueueStore>)_stores.Values;

    public IQueueStore Open(string queueName, QueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            using var conn = Db.OpenConnection();
            using (var ensure = Postgres.Sql.Command(conn, Sql.EnsureQueue, null, queueName))
            {
                ensure.ExecuteNonQuery();
            }

            var paused = false;
            using (var read = Postgres.Sql.Command(conn, Sql.Paused, null))
            using (var r = read.ExecuteReader())
            {
                while (r.Read())
                {
                    paused |= r.GetString(0) == queueName && r.GetBoolean(1);
                }
            }

            var store = new PostgresQueueStore(this, queueName, options, paused);
            _stores[queueName] = store;
            // What a dead process left claimed goes back before any worker of ours runs.
            _monitor.Rescue(conn);
            return store;
        }
        catch (Exception ex) when (Postgres.Sql.IsOutage(ex))
        {
            throw new StorageUnavailableException($"PostgreSQL cannot be reached to open queue '{queueName}': {ex.Message}", ex);
        }
    }

    public async ValueTask<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(TimeSpan.FromSeconds(2));
            var conn = await Db.OpenConnectionAsync(bound.Token).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                using var cmd = Postgres.Sql.Command(conn, "SELECT 1");
                await cmd.ExecuteScalarAsync(bound.Token).ConfigureAwait(false);
            }

            _outage = null;
            return StorageHealth.Ok($"PostgreSQL reachable; this replica is node {NodeId}");
        }
        catch (Exception ex) when (Postgres.Sql.IsOutage(ex) || ex is OperationCanceledException)
        {
            return StorageHealth.Failing($"PostgreSQL unreachable: {ex.Message}");
        }
    }

    /// <summary>Every replica that ever registered and is not yet forgotten, with its heartbeat and whether it lives.</summary>
    public async Task<IReadOnlyList<NodeInfo>> NodesAsync(CancellationToken cancellationToken)
    {
        var conn = await Db.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (conn.ConfigureAwait(false))
        {
            using var cmd = Postgres.Sql.Command(conn, Sql.Nodes, null, Options.LeaseTimeout);
            var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var list = new List<NodeInfo>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var id = reader.GetInt64(0);
                    list.Add(new NodeInfo(
                        id.ToString(System.Globalization.CultureInfo.InvariantCulture), reader.GetString(1), reader.GetInt32(2),
                        reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4),
                        reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                        reader.GetBoolean(7), id == NodeId,
                        reader.GetString(6).Split(',', StringSplitOptions.RemoveEmptyEntries)));
                }

                return list;
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _monitor.Dispose();
        foreach (var store in _stores.Values)
        {
            store.StopTimer();
        }

        Outcomes.Dispose();
        Intake.Dispose();
        try
        {
            // Stopped: the others put back at once whatever this replica still held, instead of after the lease.
            using var conn = Db.OpenConnection();
            using var stop = Postgres.Sql.Command(conn, Sql.StopNode, null, NodeId);
            stop.ExecuteNonQuery();
        }
        catch (Exception ex) when (Postgres.Sql.IsOutage(ex))
        {
            LogStopUnrecorded(_logger, NodeId, ex.Message);
        }

        Db.Dispose();
    }

    /// <summary>Claims up to <paramref name="limit"/> of the best messages of <paramref name="store"/>'s queue ready at <paramref name="now"/>.</summary>
    /// <remarks>
    /// With <paramref name="putBack"/>, those buffered rows go back first, in the same round trip and transaction, so
    /// the claim ranks them again with everything stored since they were claimed. With <paramref name="floors"/>, each
    /// lane only above its floor.
    /// </remarks>
    internal List<Buffered> Claim(PostgresQueueStore store, bool stopping, int limit, long now, long[]? putBack = null, int above = -1, ClaimFloors.Bounds? floors = null)
    {
        using var conn = Db.OpenConnection();
        using var tx = putBack is { Length: > 0 } ? conn.BeginTransaction() : null;
        using var batch = new NpgsqlBatch(conn, tx);
        if (tx is not null)
        {
            batch.BatchCommands.Add(Postgres.Sql.BatchCommand(Sql.Features.PutBack, NodeId, putBack!));
        }

        batch.BatchCommands.Add(Postgres.Sql.BatchCommand(Sql.Claim, NodeId, store.QueueName, now, limit, stopping, store.Options.PriorityAging.Ticks, above,
            (floors ?? ClaimFloors.None).Ready, (floors ?? ClaimFloors.None).Pos));
        using var r = batch.ExecuteReader();
        var rows = new List<Buffered>();
        while (r.Read())
        {
            rows.Add(new(Rows.Read(r, store.QueueName, now, at: 3), r.GetInt64(0), r.GetInt32(1), r.GetInt64(2)));
        }

        r.Close();
        tx?.Commit();
        return rows;
    }

    internal void ReportOutage(Exception ex)
    {
        if (_outage is null)
        {
            LogOutage(_logger, ex.Message);
        }

        _outage = ex.Message;
    }

    private void Healthy(bool healthy)
    {
        if (healthy && _outage is not null)
        {
            _outage = null;
            LogRecovered(_logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL storage: this replica is node {Node} on {Host}, schema {Schema}.")]
    private static partial void LogStarted(ILogger logger, long node, string host, string schema);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL unreachable ({Reason}): enqueues answer 503, workers back off, reports are kept.")]
    private static partial void LogOutage(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL reachable again.")]
    private static partial void LogRecovered(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node}: the stop could not be recorded ({Reason}); peers put its claims back after the lease.")]
    private static partial void LogStopUnrecorded(ILogger logger, long node, string reason);
}
