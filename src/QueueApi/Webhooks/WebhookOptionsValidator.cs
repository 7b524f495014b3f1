using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;

namespace QueueApi.Webhooks;

/// <summary>At start-up, every queue with <c>Handler: webhook</c> has a usable <c>Webhook</c> section; errors name the key.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<QueueApiOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueApiOptions options)
    {
        var errors = new List<string>();
        foreach (var (queue, q) in options.Queues)
        {
            if (q is null || q.Handler != WebhookHandler.Name)
            {
                continue;
            }

            var key = $"{QueueApiOptions.SectionName}:Queues:{queue}:Webhook";
            var hook = q.Webhook;
            if (hook is null || string.IsNullOrWhiteSpace(hook.Url))
            {
                errors.Add($"{key}:Url: required with Handler 'webhook'; set an absolute http or https URL.");
                continue;
            }

            if (!Uri.TryCreate(hook.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{key}:Url: '{hook.Url}' is not an absolute http or https URL.");
            }

            if (hook.Timeout <= TimeSpan.Zero || hook.Timeout > q.AttemptTimeout)
            {
                errors.Add($"{key}:Timeout: must be more than zero and at most the queue's AttemptTimeout ({q.AttemptTimeout}) (was {hook.Timeout}).");
            }

            foreach (var header in hook.Headers.Keys)
            {
                if (header.Length == 0 || header.Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal)))
                {
                    errors.Add($"{key}:Headers: '{header}' is not a valid header name.");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
