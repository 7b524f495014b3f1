namespace QueueApi.Engine.Configuration;

/// <summary>Where the built-in <c>webhook</c> handler POSTs a queue's payloads, and how.</summary>
public sealed class WebhookOptions
{
    /// <summary>An absolute http or https URL; checked at start-up. Redirects are not followed.</summary>
    public string? Url { get; set; }

    /// <summary>Time limit of one request; a request that takes longer is retried like a 503.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Extra request headers, such as an Authorization header the receiver expects.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];

    /// <summary>When set, every request is signed with HMAC-SHA256 over <c>timestamp.body</c> (header <c>QueueApi-Signature</c>).</summary>
    public string? Secret { get; set; }
}
