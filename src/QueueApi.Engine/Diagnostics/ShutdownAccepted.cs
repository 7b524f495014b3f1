using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Diagnostics;

/// <summary>What a stop request answers: the mode, whether a stop was already under way, what is still queued and in flight, and the deadline.</summary>
public sealed record ShutdownAccepted(ShutdownMode Mode, bool AlreadyStopping, long Queued, long InFlight, DateTimeOffset Deadline);
