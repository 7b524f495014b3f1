namespace QueueApi.Engine.Queues;

/// <summary>A queue's rate limit as configured, and its token bucket now.</summary>
public sealed record RateLimitState(double PermitsPerSecond, int Burst, long AvailablePermits, long WaitingWorkers, long DelayedStarts);
