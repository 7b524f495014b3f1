using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Api;
using QueueApi.Engine.Configuration;

namespace QueueApi.Shutdown;

/// <summary>
/// Reads <c>{"mode": "drain" | "immediate"}</c> strictly: a request that stops the service must be understood
/// exactly, so numbers, numeric strings, unknown names and unknown properties are refused, not guessed at.
/// </summary>
internal static class ShutdownRequestReader
{
    private const string Example = "Send {\"mode\": \"drain\"} to finish queued work before the deadline, {\"mode\": \"immediate\"} to stop after the messages in flight, or no body for the default mode.";

    /// <summary>Sets <paramref name="mode"/> from the body (already checked as JSON); returns a problem when it is not a valid request.</summary>
    public static ProblemHttpResult? Read(byte[] body, ref ShutdownMode mode)
    {
        using var doc = JsonDocument.Parse(body);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            return Invalid($"The body must be a JSON object, not {Describe(doc.RootElement)}. {Example}");
        }

        var seen = false;
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (!string.Equals(property.Name, "mode", StringComparison.OrdinalIgnoreCase))
            {
                return Invalid($"Unknown field '{property.Name}': the only field is 'mode'. {Example}");
            }

            if (seen)
            {
                return Invalid($"The field 'mode' appears more than once. {Example}");
            }

            seen = true;
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue; // Explicitly "the default".
            }

            if (value.ValueKind != JsonValueKind.String || !NamedValues.TryParse<ShutdownMode>(value.GetString(), out var parsed))
            {
                return Invalid($"The field 'mode' has the value {value.GetRawText()}, which is not a shutdown mode. Allowed values: {string.Join(", ", NamedValues.Names<ShutdownMode>().Select(n => $"\"{n}\""))} (a name, not a number). {Example}");
            }

            mode = parsed;
        }

        return null;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Null => "null",
        _ => e.GetRawText(),
    };

    private static ProblemHttpResult Invalid(string detail) =>
        Problems.Make(StatusCodes.Status400BadRequest, "Invalid shutdown request", detail);
}
