namespace QueueApi.Storage.Sqlite.Recovery;

/// <summary>A queue's limits for messages a dead process left in flight.</summary>
/// <param name="MaxCrashes">Crashes (in flight when the process died) after which a message is dead-lettered as poison.</param>
/// <param name="MaxAttempts">Attempts, the cut-short one included, after which it is dead-lettered as exhausted.</param>
public readonly record struct CrashPolicy(int MaxCrashes, int MaxAttempts)
{
    public static CrashPolicy Default { get; } = new(2, 3);

    public static string PoisonReason(int crashes) => $"crashed the worker {crashes} {(crashes == 1 ? "time" : "times")} (poison message)";

    public static string ExhaustedReason(int attempts) => $"{attempts} attempts used up; the last one was cut short by a crash";
}
