using System.ComponentModel.DataAnnotations;

namespace QueueApi.Storage.Postgres;

/// <summary>The PostgreSQL store's settings, bound from <c>QueueApi:Storage</c> when its Provider is <c>Postgres</c>.</summary>
public sealed class PostgresStorageOptions
{
    public const string ProviderName = "Postgres";

    /// <summary>An Npgsql connection string. Without a Timeout/Command Timeout it gets 5 s and 15 s: every wait is bounded.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "QueueApi:Storage:ConnectionString is required when the Provider is Postgres.")]
    public string ConnectionString { get; set; } = "";

    /// <summary>The schema that holds the tables; replicas that share queues share it.</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,40}$", ErrorMessage = "QueueApi:Storage:Schema must be a lowercase SQL identifier (letters, digits, _).")]
    public string Schema { get; set; } = "queueapi";

    /// <summary>A replica silent this long is dead: any other replica puts back what it had claimed.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a replica renews its heartbeat and looks for dead peers; well under <see cref="LeaseTimeout"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The fallback poll: a lost notification delays work by at most this, never strands it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages claimed per round trip into a queue's local buffer (which holds at most this many).</summary>
    [Range(1, 10_000)]
    public int ClaimBatch { get; set; } = 32;

    /// <summary>
    /// For a queue this replica does not serve: a message in flight when its replica died this many times is
    /// dead-lettered. Queues this replica serves use their own <c>QueueApi:Queues:{name}:MaxCrashes</c>.
    /// </summary>
    [Range(1, 100)]
    public int MaxCrashes { get; set; } = 2;
}
