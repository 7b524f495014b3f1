using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace QueueApi.Storage.Postgres;

/// <summary>Chooses the PostgreSQL store when <c>QueueApi:Storage:Provider</c> is <c>Postgres</c>.</summary>
public static class PostgresStorageServiceCollectionExtensions
{
    public const string SectionName = "QueueApi:Storage";

    /// <summary>
    /// Registers the PostgreSQL store, its validated settings and the node directory when configured; otherwise
    /// changes nothing. The service's storage registration hands it out as the <c>IMessageStorage</c>.
    /// </summary>
    public static IServiceCollection AddPostgresStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SectionName);
        if (!string.Equals(section["Provider"], PostgresStorageOptions.ProviderName, StringComparison.OrdinalIgnoreCase))
        {
            return services;
        }

        services.AddOptions<PostgresStorageOptions>().Bind(section).ValidateDataAnnotations()
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.HeartbeatInterval < o.LeaseTimeout,
                "QueueApi:Storage:HeartbeatInterval must be above 0 and below LeaseTimeout, or a live replica would look dead.")
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.PollInterval <= TimeSpan.FromSeconds(30),
                "QueueApi:Storage:PollInterval must be between 0 and 30 s.")
            .ValidateOnStart();
        services.AddSingleton(sp => new PostgresStorage(
            sp.GetRequiredService<IOptions<PostgresStorageOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PostgresStorage>>()));
        services.AddSingleton<INodeDirectory>(sp => sp.GetRequiredService<PostgresStorage>());
        return services;
    }
}
