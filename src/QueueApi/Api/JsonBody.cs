using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.HttpResults;

namespace QueueApi.Api;

/// <summary>Reads a request body as JSON bytes, exactly as sent, with a size limit and clear errors.</summary>
internal static class JsonBody
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>Reads and checks the body; on failure, the problem says what was wrong.</summary>
    /// <param name="request">The request whose body is read.</param>
    /// <param name="limit">The most bytes accepted.</param>
    /// <param name="validate">False when the caller parses the JSON itself (and so checks it in the same pass).</param>
    public static async ValueTask<(byte[]? Body, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, int limit, bool validate = true)
    {
        // The common header compared as it is; anything else (charset, +json types, odd casing) parsed properly.
        if (!string.Equals(request.ContentType, "application/json", StringComparison.OrdinalIgnoreCase) && !request.HasJsonContentType())
        {
            return (null, Problems.Make(
                StatusCodes.Status415UnsupportedMediaType,
                "Unsupported media type",
                $"The body must be JSON: send the header 'Content-Type: application/json' (got '{request.ContentType ?? "none"}')."));
        }

        if (request.ContentLength > limit)
        {
            return (null, TooLarge(limit));
        }

        var body = await ReadAllAsync(request.BodyReader, limit, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            return (null, TooLarge(limit));
        }

        if (body.Length == 0)
        {
            return (null, Problems.Make(StatusCodes.Status400BadRequest, "Empty body", "The body is empty: send a JSON value, for example {\"hello\": \"world\"}."));
        }

        // JSON is UTF-8 (RFC 8259) and payloads are kept byte for byte, so bytes that are not UTF-8 are refused
        // here rather than served back later with replacement characters. Utf8.IsValid is vectorized: cheap.
        if (!Utf8.IsValid(body))
        {
            return (null, NotUtf8(body));
        }

        if (body.AsSpan().StartsWith(Bom))
        {
            return (null, Problems.Make(
                StatusCodes.Status400BadRequest,
                "Byte order mark",
                "The body starts with a UTF-8 byte order mark (EF BB BF), which JSON sent over a network must not have (RFC 8259, section 8.1) and which would become part of the payload. Send the JSON without it."));
        }

        return validate && Validate(body) is { } error ? (null, Malformed(error)) : (body, null);
    }

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    private static ProblemHttpResult NotUtf8(byte[] body)
    {
        // Cold path: find where the bytes stop being UTF-8, so the client can find the fault.
        var chars = new char[body.Length];
        Utf8.ToUtf16(body, chars, out var valid, out _, replaceInvalidSequences: false);
        return Problems.Make(
            StatusCodes.Status400BadRequest,
            "Not UTF-8",
            $"The body is not valid UTF-8: byte {valid} (0x{body[valid]:X2}) does not start a valid UTF-8 sequence. JSON must be UTF-8 (RFC 8259); encode the text as UTF-8 and send it again.");
    }

    /// <summary>Checks that the bytes are one well-formed JSON value; returns the error text otherwise.</summary>
    public static string? Validate(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            while (reader.Read())
            {
                // Reading every token is the check.
            }

            return null;
        }
        catch (JsonException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Splits a JSON array into its elements' exact bytes, checking the whole body in the same pass (a batch is
    /// read once, not once to check and once to split); on failure, the problem says what was wrong.
    /// </summary>
    public static (List<byte[]>? Items, ProblemHttpResult? Problem) SplitArray(byte[] json, int maxItems)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return (null, Validate(json) is { } error
                    ? Malformed(error)
                    : InvalidBatch("The body must be a JSON array of message payloads, for example [{\"n\": 1}, {\"n\": 2}]."));
            }

            var items = new List<byte[]>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (items.Count == maxItems)
                {
                    return (null, InvalidBatch($"The batch has more than {maxItems} messages (QueueApi:Api:MaxBatchSize): split it."));
                }

                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                items.Add(json[start..(int)reader.BytesConsumed]);
            }

            // Anything after the array but whitespace throws here.
            while (reader.Read())
            {
            }

            return items.Count == 0 ? (null, InvalidBatch("The batch is empty: send at least one payload in the array.")) : (items, null);
        }
        catch (JsonException ex)
        {
            return (null, Malformed(ex.Message));
        }
    }

    private static ProblemHttpResult InvalidBatch(string detail) => Problems.Make(StatusCodes.Status400BadRequest, "Invalid batch", detail);

    public static ProblemHttpResult Malformed(string error) => Problems.Make(
        StatusCodes.Status400BadRequest,
        "Malformed JSON",
        $"The body is not valid JSON: {error} Fix the JSON and send it again.");

    private static ProblemHttpResult TooLarge(int limit) => Problems.Make(
        StatusCodes.Status413PayloadTooLarge,
        "Body too large",
        $"The body is larger than the limit of {limit} bytes (QueueApi:Api:MaxMessageBytes or MaxBatchBytes). Send a smaller body or raise the limit.");

    private static async ValueTask<byte[]?> ReadAllAsync(PipeReader reader, int limit, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                // One exact-size copy: this array becomes the message's payload.
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            // Look at everything, consume nothing, until the body is complete.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
