using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Handlers;

/// <summary>
/// A handler to watch the engine at work. Payload fields, all optional:
/// <c>sleepMs</c> (simulated work, honours cancellation), <c>fail</c> (error text: the attempt fails),
/// <c>failAttempts</c> (fail only the first N attempts), <c>permanent</c> (fail without retries), and with chaos on
/// (<c>QueueApi:Chaos:Enabled</c>) <c>exit</c>: the process kills itself mid-message (SIGKILL), a poison message.
/// </summary>
public sealed class DemoHandler(TimeProvider time, IOptions<QueueApiOptions> options) : IMessageHandler
{
    public const string Name = "demo";

    public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        var request = Parse(context.Payload.Span);
        if (request.Exit && options.Value.Chaos.Enabled)
        {
            // As a segfault or an OOM kill would: no shutdown, no report; the store's next start counts the crash.
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }

        if (request.SleepMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(request.SleepMs), time, cancellationToken).ConfigureAwait(false);
        }

        // Stryker disable once Equality : failThisAttempt below already implies failing (FailAttempts > 0, or a Fail text), so widening this test changes nothing.
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
                case "exit" when reader.TokenType is JsonTokenType.True:
                    request.Exit = true;
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
        public bool Exit;
        public bool Permanent;
    }
}
