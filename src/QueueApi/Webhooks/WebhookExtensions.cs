using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Hosting;

namespace QueueApi.Webhooks;

internal static class WebhookExtensions
{
    /// <summary>The <c>webhook</c> handler, its HttpClient (through the factory, no redirects) and its start-up checks.</summary>
    public static IServiceCollection AddWebhookHandler(this IServiceCollection services)
    {
        services.AddHttpClient(WebhookHandler.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan) // Webhook:Timeout rules.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddQueueHandler<WebhookHandler>(WebhookHandler.Name);
        services.AddSingleton<IValidateOptions<QueueApiOptions>, WebhookOptionsValidator>();
        return services;
    }
}
