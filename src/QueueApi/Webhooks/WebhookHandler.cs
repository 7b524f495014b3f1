using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;

namespace QueueApi.Webhooks;

/// <summary>
/// The built-in <c>webhook</c> handler: POSTs each payload to the queue's <c>Webhook:Url</c>. A 2xx is success;
/// 408, 429, 5xx, a timeout or a failed connection are retried (honouring <c>Retry-After</c>); any other answer,
/// a redirect included (never followed), fails the message for good.
/// </summary>
internal sealed class WebhookHandler(IHttpClientFactory clients, IOptions<QueueApiOptions> options, TimeProvider time) : IMessageHandler
{
    public const string Name = "webhook";
    public const string ClientName = "queueapi-webhook";

    public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        // Validated at start-up: a queue with this handler has a Webhook with an absolute URL.
        var hook = options.Value.Queues[context.Queue].Webhook!;
        using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ReadOnlyMemoryContent(context.Payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in hook.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        // What a receiver needs to be idempotent (the id) and to tell retries apart (the attempt).
        request.Headers.Add("QueueApi-Message-Id", context.Id);
        request.Headers.Add("QueueApi-Queue", context.Queue);
        request.Headers.Add("QueueApi-Attempt", context.Attempt.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(hook.Secret))
        {
            request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Create(hook.Secret, time.GetUtcNow().ToUnixTimeSeconds(), context.Payload.Span));
        }

        using var timeout = new CancellationTokenSource(hook.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RetryLaterException($"The webhook did not answer within {hook.Timeout} (Webhook:Timeout).", ex);
        }

        using (response)
        {
            Classify(response, hook.Url!);
        }
    }

    private void Classify(HttpResponseMessage response, string url)
    {
        var code = (int)response.StatusCode;
        if (code is >= 200 and < 300)
        {
            return;
        }

        var answer = $"The webhook {url} answered {code} {response.ReasonPhrase}".TrimEnd();
        if (code is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500)
        {
            throw new RetryLaterException($"{answer}; retried.", RetryAfter(response));
        }

        if (code is >= 300 and < 400)
        {
            throw new PermanentMessageException($"{answer} (a redirect to {response.Headers.Location}); redirects are not followed: configure the final URL.");
        }

        throw new PermanentMessageException($"{answer}; a client error is not retried.");
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };
}
