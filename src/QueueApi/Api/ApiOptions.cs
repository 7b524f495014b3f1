using System.ComponentModel.DataAnnotations;

namespace QueueApi.Api;

/// <summary>Limits of the HTTP API, bound from <c>QueueApi:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "QueueApi:Api";

    [Range(16, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 256 * 1024;

    [Range(16, 256 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 1_000;

    /// <summary>What a 429 or 503 answer tells the client to wait, in seconds.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;
}
