namespace QueueApi.Api;

/// <summary>
/// Reads enum values from requests by their documented names only. The framework's enum parsing also takes
/// numbers ("1", 42), padded names and comma lists ("drain,immediate"), so a typo could pick an action.
/// </summary>
internal static class NamedValues
{
    /// <summary>The documented names of <typeparamref name="TEnum"/>, as the API writes them (camelCase).</summary>
    public static string[] Names<TEnum>()
        where TEnum : struct, Enum =>
        [.. Enum.GetNames<TEnum>().Select(n => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(n))];

    /// <summary>True when <paramref name="text"/> is exactly one of the names, in any casing.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum value)
        where TEnum : struct, Enum
    {
        foreach (var name in Enum.GetNames<TEnum>())
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                value = Enum.Parse<TEnum>(name);
                return true;
            }
        }

        value = default;
        return false;
    }
}
