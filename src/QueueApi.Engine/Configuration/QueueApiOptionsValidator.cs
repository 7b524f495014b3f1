using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Configuration;

/// <summary>Checks every queue's settings and names the configuration key that is wrong.</summary>
internal sealed partial class QueueApiOptionsValidator(HandlerCatalog handlers) : IValidateOptions<QueueApiOptions>
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex QueueName();

    public ValidateOptionsResult Validate(string? name, QueueApiOptions options)
    {
        var errors = new List<string>();
        const string root = QueueApiOptions.SectionName;
        foreach (var (queue, q) in options.Queues)
        {
            var key = $"{root}:Queues:{queue}";
            if (!QueueName().IsMatch(queue))
            {
                errors.Add($"{key}: queue name '{queue}' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter or digit.");
            }

            if (q is null)
            {
                errors.Add($"{key}: settings are missing.");
                continue;
            }

            var results = new List<ValidationResult>();
            Validator.TryValidateObject(q, new ValidationContext(q), results, validateAllProperties: true);
            Validator.TryValidateObject(q.CircuitBreaker, new ValidationContext(q.CircuitBreaker), results, validateAllProperties: true);
            Collect(errors, key, results);
            if (q.RateLimit is { } limit)
            {
                results.Clear();
                Validator.TryValidateObject(limit, new ValidationContext(limit), results, validateAllProperties: true);
                Collect(errors, $"{key}:RateLimit", results);
            }

            if (!string.IsNullOrEmpty(q.Handler) && !handlers.Contains(q.Handler))
            {
                errors.Add($"{key}:Handler: unknown handler '{q.Handler}'; registered handlers: {string.Join(", ", handlers.Names.Order())}.");
            }

            Positive(errors, $"{key}:BaseDelay", q.BaseDelay, allowZero: true);
            Positive(errors, $"{key}:MaxDelay", q.MaxDelay, allowZero: true);
            Positive(errors, $"{key}:AttemptTimeout", q.AttemptTimeout);
            Positive(errors, $"{key}:StuckGrace", q.StuckGrace);
            Positive(errors, $"{key}:IdempotencyWindow", q.IdempotencyWindow);
            Positive(errors, $"{key}:PriorityAging", q.PriorityAging, allowZero: true);
            Positive(errors, $"{key}:CircuitBreaker:BreakDuration", q.CircuitBreaker.BreakDuration);
            Positive(errors, $"{key}:CircuitBreaker:SamplingDuration", q.CircuitBreaker.SamplingDuration);
            if (q.MaxDelay < q.BaseDelay)
            {
                errors.Add($"{key}:MaxDelay: must be at least BaseDelay ({q.BaseDelay}).");
            }
        }

        foreach (var (schedule, o) in options.Schedules)
        {
            var key = $"{root}:Schedules:{schedule}";
            if (o is null)
            {
                errors.Add($"{key}: settings are missing.");
                continue;
            }

            foreach (var (field, error) in ScheduleValidator.Validate(o.ToDefinition(schedule), options.Queues.Keys, out _))
            {
                errors.Add(field == "name" ? $"{key}: {error}" : $"{key}:{char.ToUpperInvariant(field[0])}{field[1..]}: {error}");
            }
        }

        Positive(errors, $"{root}:Scheduler:MisfireGrace", options.Scheduler.MisfireGrace, allowZero: true);
        var s = options.Shutdown;
        Positive(errors, $"{root}:Shutdown:DrainTimeout", s.DrainTimeout, allowZero: true);
        Positive(errors, $"{root}:Shutdown:CancelGrace", s.CancelGrace);
        Positive(errors, $"{root}:Shutdown:JoinTimeout", s.JoinTimeout);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Collect(List<string> errors, string key, List<ValidationResult> results)
    {
        foreach (var r in results)
        {
            // Stryker disable once String : the options carry only property attributes (no class-level ones, no IValidatableObject), so every result names its member and the default is never used.
            foreach (var member in r.MemberNames.DefaultIfEmpty(""))
            {
                errors.Add($"{key}:{member}: {r.ErrorMessage}");
            }
        }
    }

    private static void Positive(List<string> errors, string key, TimeSpan value, bool allowZero = false)
    {
        if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero))
        {
            errors.Add($"{key}: must be {(allowZero ? "zero or more" : "more than zero")} (was {value}).");
        }
    }
}
