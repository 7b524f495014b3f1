using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;
using QueueApi.Storage.Postgres;
using QueueApi.Storage.Postgres.Schedules;
using QueueApi.Storage.Sqlite.Queues;
using QueueApi.Storage.Sqlite.Schedules;

namespace QueueApi.Storage;

internal static class StorageServiceExtensions
{
    /// <summary>
    /// Registers the configured storage before the engine (which falls back to memory only when none is). The
    /// SQLite file is opened when the engine starts: a refusal (locked, corrupt, newer schema) stops start-up.
    /// </summary>
    public static IServiceCollection AddQueueStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.SectionName)).ValidateOnStart();
        // The PostgreSQL store's own settings and its node directory, when it is the one configured.
        services.AddPostgresStorage(configuration);
        if (string.Equals(configuration[$"{StorageOptions.SectionName}:Provider"], PostgresStorageOptions.ProviderName, StringComparison.OrdinalIgnoreCase))
        {
            // The dashboard lists the replicas sharing the store.
            services.AddSingleton<Dashboard.NodeReplicaSource>();
            services.AddHostedService(sp => sp.GetRequiredService<Dashboard.NodeReplicaSource>());
            services.AddSingleton<Dashboard.IReplicaSource>(sp => sp.GetRequiredService<Dashboard.NodeReplicaSource>());
        }

        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<IMessageStorage>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            return options.IsPostgres ? sp.GetRequiredService<PostgresStorage>()
                : options.IsSqlite ? new SqliteStorage(options.ToSqlite(), sp.GetRequiredService<IHostEnvironment>().ContentRootPath, time)
                : new MemoryStorage(time);
        });
        // Schedules beside the messages: with SQLite, a file of their own next to the database (durable, shareable);
        // with PostgreSQL, tables of their own in the shared schema (every replica sees them, each occurrence runs once).
        services.AddSingleton<IScheduleStore>(sp => sp.GetRequiredService<IMessageStorage>() switch
        {
            SqliteStorage sqlite => new SqliteScheduleStore(SqliteScheduleStore.BesideDatabase(sqlite.Path), sqlite.Synchronous),
            PostgresStorage postgres => new PostgresScheduleStore(postgres),
            _ => new MemoryScheduleStore(),
        });
        services.AddHealthChecks().AddCheck<StorageReadyCheck>("storage", tags: ["ready"]);
        return services;
    }
}

/// <summary>Readiness: the store answers (for SQLite: its writer runs and its last commit did not fail).</summary>
internal sealed class StorageReadyCheck(IMessageStorage storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = await storage.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        return health.Healthy ? HealthCheckResult.Healthy(health.Description) : HealthCheckResult.Unhealthy(health.Description);
    }
}
