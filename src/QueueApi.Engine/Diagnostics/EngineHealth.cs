using QueueApi.Engine.Supervision;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Diagnostics;

/// <summary>Liveness and readiness, read from the supervisor's record and the workers' threads.</summary>
internal sealed class EngineHealth(Supervisor supervisor, IReadOnlyCollection<Worker> workers, IReadOnlyList<Thread> storeThreads, int queues, TimeProvider time)
{
    /// <summary>True while every worker lives, none faulted and none is stuck.</summary>
    public bool IsLive(out string reason)
    {
        if (supervisor.FirstFailure is { } f)
        {
            reason = $"worker {f.WorkerId} {f.Kind}: {f.Message}";
            return false;
        }

        var life = supervisor.Life;
        var now = time.GetTimestamp();
        if (workers.FirstOrDefault(w => w.Deadline.IsStuck(now)) is { } stuck)
        {
            reason = $"worker {stuck.Id} is stuck on {(stuck.CurrentMessage?.Id is { } id ? $"message {id}" : "a hang")} past its time limit";
            return false;
        }

        // Backstop for a fault signal that never came: a worker that ended while the engine runs.
        if (life.State == EngineState.Running && life.Mode is null && workers.FirstOrDefault(w => !w.Thread.IsAlive) is { } dead)
        {
            reason = $"worker {dead.Id} thread is not alive";
            return false;
        }

        if (life.State == EngineState.Running && life.Mode is null && storeThreads.FirstOrDefault(Supervisor.StoreThreadEnded) is { } ended)
        {
            reason = $"storage thread '{ended.Name}' is not alive";
            return false;
        }

        reason = life.State switch
        {
            EngineState.Running => $"{workers.Count} workers alive",
            var s => $"engine {s.ToString().ToLowerInvariant()}",
        };
        return true;
    }

    /// <summary>True while the engine accepts work and is live.</summary>
    public bool IsReady(out string reason)
    {
        var life = supervisor.Life;
        if (life.State != EngineState.Running || life.Mode is not null)
        {
            reason = $"engine {(life.Mode is not null ? "stopping" : life.State.ToString().ToLowerInvariant())}: not accepting messages";
            return false;
        }

        if (!IsLive(out reason))
        {
            return false;
        }

        reason = $"accepting messages on {queues} queues";
        return true;
    }
}
