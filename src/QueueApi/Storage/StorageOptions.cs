using Microsoft.Extensions.Options;
using QueueApi.Storage.Sqlite;

namespace QueueApi.Storage;

/// <summary>Where accepted messages are kept: the <c>QueueApi:Storage</c> section.</summary>
internal sealed class StorageOptions
{
    public const string SectionName = "QueueApi:Storage";
    public const string Sqlite = "Sqlite";
    public const string Memory = "Memory";
    public const string Postgres = Storage.Postgres.PostgresStorageOptions.ProviderName;

    /// <summary>
    /// <c>Sqlite</c> (durable, the default), <c>Memory</c> (lost when the process ends) or <c>Postgres</c> (shared by
    /// many replicas; its settings, ConnectionString and the rest, bind from this section too).
    /// </summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>The SQLite database file; relative to the content root.</summary>
    public string Path { get; set; } = System.IO.Path.Combine("data", "queueapi.db");

    /// <summary><c>Normal</c> (survives a process crash) or <c>Full</c> (survives power loss too).</summary>
    public string Synchronous { get; set; } = nameof(SqliteSynchronous.Normal);

    /// <summary>
    /// SQLite, opt-in: a group's plain inserts go into one packed row, expanded into a row per message when first
    /// claimed or when the file is next opened; false (the default) writes a row per message at once. Durability is
    /// the same either way (docs/decisions/0033-packed-intake.md).
    /// </summary>
    public bool PackIntake { get; set; }

    public bool IsSqlite => string.Equals(Provider, Sqlite, StringComparison.OrdinalIgnoreCase);

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase);

    public SqliteStorageOptions ToSqlite() => new()
    {
        Path = Path,
        Synchronous = Enum.Parse<SqliteSynchronous>(Synchronous, ignoreCase: true),
        PackIntake = PackIntake,
    };
}

/// <summary>At start-up: every storage setting names a choice that exists; the message names the key.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (!options.IsSqlite && !options.IsPostgres && !string.Equals(options.Provider, StorageOptions.Memory, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"QueueApi:Storage:Provider is '{options.Provider}': use Sqlite (durable, the default), Memory, or Postgres (many replicas).");
        }

        if (!Enum.TryParse<SqliteSynchronous>(options.Synchronous, ignoreCase: true, out _) || int.TryParse(options.Synchronous, out _))
        {
            failures.Add($"QueueApi:Storage:Synchronous is '{options.Synchronous}': use Normal (survives a process crash) or Full (survives power loss).");
        }

        if (options.IsSqlite && string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add("QueueApi:Storage:Path is empty: give the database file, e.g. data/queueapi.db (relative to the content root).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
