using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Storage.Memory;

/// <summary>Schedules kept in memory, behind one lock: lost with the process, shared by every scheduler given this instance.</summary>
public sealed class MemoryScheduleStore : IScheduleStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredSchedule> _schedules = new(StringComparer.Ordinal);

    public ValueTask<IReadOnlyList<StoredSchedule>> ListAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return new([.. _schedules.Values.OrderBy(s => s.Definition.Name, StringComparer.Ordinal)]);
        }
    }

    public ValueTask<StoredSchedule?> GetAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return new(_schedules.GetValueOrDefault(name));
        }
    }

    public ValueTask<StoredSchedule> PutAsync(ScheduleDefinition definition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_gate)
        {
            var stored = _schedules.TryGetValue(definition.Name, out var old) && old.Definition.SameTimingAs(definition)
                ? old with { Definition = definition }
                : new StoredSchedule(definition, now, old?.LastRun);
            _schedules[definition.Name] = stored;
            return new(stored);
        }
    }

    public ValueTask<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return new(_schedules.Remove(name));
        }
    }

    public ValueTask<bool> TryAdvanceAsync(string name, DateTimeOffset expected, DateTimeOffset cursor, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_schedules.TryGetValue(name, out var s) || s.Cursor != expected)
            {
                return new(false);
            }

            _schedules[name] = s with { Cursor = cursor };
            return new(true);
        }
    }

    public ValueTask RecordRunAsync(string name, ScheduleRun run, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_schedules.TryGetValue(name, out var s))
            {
                _schedules[name] = s with { LastRun = run };
            }

            return ValueTask.CompletedTask;
        }
    }
}
