using System.ComponentModel.DataAnnotations;

namespace QueueApi.Engine.Configuration;

/// <summary>How fast a queue's workers may start messages, to protect a downstream: a token bucket.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Messages started per second on average, across all the queue's workers (fractions allowed: 0.5 is one every 2 s).</summary>
    [Range(0.001, 1_000_000, ErrorMessage = "PermitsPerSecond must be between 0.001 and 1000000.")]
    public double PermitsPerSecond { get; set; }

    /// <summary>How many may start at once after a quiet spell (the bucket's size).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Burst must be between 1 and 1000000.")]
    public int Burst { get; set; } = 1;
}
