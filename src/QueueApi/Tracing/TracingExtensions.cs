using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using QueueApi.Engine.Diagnostics;

namespace QueueApi.Tracing;

/// <summary>Settings under <c>QueueApi:Tracing</c>.</summary>
internal sealed class TracingOptions
{
    public const string SectionName = "QueueApi:Tracing";

    /// <summary>Where to send traces over OTLP (e.g. http://localhost:4317); unset: no exporter, tracing costs nothing.</summary>
    public string? OtlpEndpoint { get; set; }
}

internal static class TracingExtensions
{
    /// <summary>
    /// With <c>QueueApi:Tracing:OtlpEndpoint</c> set, exports the spans of the service's requests, of each attempt
    /// (source <c>QueueApi</c>) and of outgoing HTTP calls (webhooks) over OTLP. Off by default.
    /// </summary>
    public static IServiceCollection AddQueueTracing(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<TracingOptions>().Bind(config.GetSection(TracingOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TracingOptions>, TracingOptionsValidator>();
        var endpoint = config[$"{TracingOptions.SectionName}:{nameof(TracingOptions.OtlpEndpoint)}"];
        if (!string.IsNullOrWhiteSpace(endpoint) && TracingOptionsValidator.IsEndpoint(endpoint, out var uri))
        {
            services.AddOpenTelemetry().WithTracing(tracing => tracing
                // The framework's own sources: the request that enqueued and the webhook's HTTP call, in the same trace.
                .AddSource(MessageTracing.SourceName, "Microsoft.AspNetCore", "System.Net.Http")
                .AddOtlpExporter(o => o.Endpoint = uri));
        }

        return services;
    }
}

internal sealed class TracingOptionsValidator : IValidateOptions<TracingOptions>
{
    public static bool IsEndpoint(string value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    public ValidateOptionsResult Validate(string? name, TracingOptions options) =>
        string.IsNullOrWhiteSpace(options.OtlpEndpoint) || IsEndpoint(options.OtlpEndpoint, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{TracingOptions.SectionName}:OtlpEndpoint: '{options.OtlpEndpoint}' is not an absolute http or https URL (e.g. http://localhost:4317).");
}
