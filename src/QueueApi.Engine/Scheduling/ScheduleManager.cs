using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Storage;

namespace QueueApi.Engine.Scheduling;

/// <summary>
/// The schedules as the API sees them: the ones declared in configuration (read-only) and the ones managed over
/// HTTP, together, each with its next and last run. Every change goes to the store, then wakes the scheduler.
/// </summary>
public sealed class ScheduleManager(IScheduleStore store, Scheduler scheduler, QueueEngine engine, TimeProvider time, IOptions<QueueApiOptions> options)
{
    private readonly Dictionary<string, ScheduleOptions> _configured = options.Value.Schedules;

    public IScheduleStore Store => store;

    public Scheduler Scheduler => scheduler;

    /// <summary>
    /// Stores the schedules declared in configuration (unchanged timing keeps its progress, so a restart's misses
    /// follow the Misfire rule) and removes ones that configuration no longer declares. Run once at start-up.
    /// </summary>
    public async ValueTask SyncConfigurationAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var (name, o) in _configured)
        {
            await store.PutAsync(o.ToDefinition(name), now, cancellationToken).ConfigureAwait(false);
        }

        foreach (var stored in await store.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (stored.Definition.Source == ScheduleSource.Configuration && !_configured.ContainsKey(stored.Definition.Name))
            {
                await store.DeleteAsync(stored.Definition.Name, cancellationToken).ConfigureAwait(false);
            }
        }

        scheduler.Wake();
    }

    public async ValueTask<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await store.ListAsync(cancellationToken).ConfigureAwait(false)).Select(Describe)];

    public async ValueTask<ScheduleInfo?> GetAsync(string name, CancellationToken cancellationToken) =>
        await store.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } s ? Describe(s) : null;

    /// <summary>Validates and stores an API schedule; a name declared in configuration is read-only.</summary>
    public async ValueTask<(ScheduleChange Change, ScheduleInfo? Schedule, IReadOnlyList<(string Field, string Error)> Errors)> PutAsync(
        ScheduleDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (IsConfigured(definition.Name))
        {
            return (ScheduleChange.ReadOnly, null, []);
        }

        var errors = ScheduleValidator.Validate(definition with { Source = ScheduleSource.Api }, engine.Queues.Select(q => q.Name), out _);
        if (errors.Count > 0)
        {
            return (ScheduleChange.Invalid, null, errors);
        }

        var existed = await store.GetAsync(definition.Name, cancellationToken).ConfigureAwait(false) is not null;
        var stored = await store.PutAsync(definition with { Source = ScheduleSource.Api }, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        scheduler.Wake();
        return (existed ? ScheduleChange.Replaced : ScheduleChange.Created, Describe(stored), []);
    }

    public async ValueTask<ScheduleChange> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (IsConfigured(name))
        {
            return ScheduleChange.ReadOnly;
        }

        var deleted = await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        scheduler.Wake();
        return deleted ? ScheduleChange.Deleted : ScheduleChange.NotFound;
    }

    /// <summary>Enqueues one message of the schedule now (configured ones too: triggering changes no definition).</summary>
    public async ValueTask<(ScheduleChange Change, ScheduleRun? Run)> TriggerAsync(string name, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } s)
        {
            return (ScheduleChange.NotFound, null);
        }

        return (ScheduleChange.Triggered, await scheduler.TriggerAsync(s.Definition, cancellationToken).ConfigureAwait(false));
    }

    public bool IsConfigured(string name) => _configured.ContainsKey(name);

    private ScheduleInfo Describe(StoredSchedule s)
    {
        var next = s.Definition.Enabled ? scheduler.CronOf(s.Definition).Next(s.Cursor) : null;
        return new ScheduleInfo(s.Definition, next, s.LastRun);
    }
}
