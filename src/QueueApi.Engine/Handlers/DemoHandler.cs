using System.Text.Json;

namespace QueueApi.Engine.Handlers;

/// <summary>
/// A handler to watch the engine at work. Payload fields, all optional:
/// <c>sleepMs</c> (simulated work, honours cancellation), <c>fail</c> (error text: the attempt fails),
/// <c>failAttempts</c> (fail only the first N attempts), <c>permanent</c> (fail without retries).
/// </summary>
public sealed class DemoHandler(TimeProvider time) : IMessageHandler
{
    public const string Name = "demo";

    public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        var request = Parse(context.Payload.Span);
        if (request.SleepMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(request.SleepMs), time, cancellationToken).ConfigureAwait(false);
        }

        var failing = request.Fail is not null || request.FailAttempts > 0;
        var failThisAttempt = request.FailAttempts > 0 ? context.Attempt <= request.FailAttempts : request.Fail is not null;
        if (failing && failThisAttempt)
        {
            var why = request.Fail ?? $"demo failure on attempt {context.Attempt} of the first {request.FailAttempts}";
            if (request.Permanent)
            {
                throw new PermanentMessageException(why);
            }

            throw new InvalidOperationException(why);
        }
    }

    private static DemoRequest Parse(ReadOnlySpan<byte> payload)
    {
        var request = default(DemoRequest);
        var reader = new Utf8JsonReader(payload);
        // Only top-level properties of an object matter; anything else is plain payload.
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return request;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "sleepMs" when reader.TokenType == JsonTokenType.Number:
                    request.SleepMs = Math.Clamp(reader.GetDouble(), 0, int.MaxValue);
                    break;
                case "fail" when reader.TokenType == JsonTokenType.String:
                    request.Fail = reader.GetString();
                    break;
                case "fail" when reader.TokenType == JsonTokenType.True:
                    request.Fail = "demo failure requested";
                    break;
                case "failAttempts" when reader.TokenType == JsonTokenType.Number:
                    request.FailAttempts = reader.GetInt32();
                    break;
                case "permanent" when reader.TokenType is JsonTokenType.True:
                    request.Permanent = true;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return request;
    }

    private struct DemoRequest
    {
        public double SleepMs;
        public string? Fail;
        public int FailAttempts;
        public bool Permanent;
    }
}
