using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Configuration;

/// <summary>
/// Settings whose values are names (an enum) are read by name only, in any casing. The configuration binder also
/// takes numbers ("1" binds to the second name, "7" to no name at all) and comma lists, so a typo could pick a
/// behaviour nobody chose; and a value it cannot convert ends start-up with a stack trace rather than the key.
/// Checked on the raw values before binding, as decision 0015 does for requests.
/// </summary>
internal static class ConfiguredNames
{
    /// <summary>Throws one <see cref="OptionsValidationException"/> naming every key whose value is not one of its names.</summary>
    public static void Check(IConfiguration root)
    {
        var errors = new List<string>();
        foreach (var schedule in root.GetSection("Schedules").GetChildren())
        {
            Check<MisfirePolicy>(schedule.GetSection("Misfire"), "a misfire policy", errors);
        }

        Check<ShutdownMode>(root.GetSection("Shutdown:DefaultMode"), "a shutdown mode", errors);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(QueueApiOptions), errors);
        }
    }

    private static void Check<TEnum>(IConfigurationSection setting, string what, List<string> errors)
        where TEnum : struct, Enum
    {
        var names = Enum.GetNames<TEnum>();
        if (setting.Value is { } value && !names.Any(n => string.Equals(n, value, StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add($"{setting.Path}: '{value}' is not {what}; use {string.Join(" or ", names)} (the name, in any casing).");
        }
    }
}
