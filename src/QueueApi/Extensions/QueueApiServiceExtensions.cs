using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using QueueApi.Api;
using QueueApi.Dashboard;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Hosting;
using QueueApi.Health;
using QueueApi.Metrics;
using QueueApi.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using QueueApi.Schedules;
using QueueApi.Tracing;
using QueueApi.Webhooks;

namespace QueueApi.Extensions;

internal static class QueueApiServiceExtensions
{
    /// <summary>Everything the service needs: the engine, API limits, admin key, JSON, problem details, health, OpenAPI, metrics, dashboard.</summary>
    public static WebApplicationBuilder AddQueueApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;
        builder.AddStartupFailureReporting();

        services.TryAddSingleton(TimeProvider.System);
        services.AddQueueStorage(config);
        services.AddQueueEngine(config);
        services.AddHostedService<StartupWarnings>();
        services.AddWebhookHandler();
        services.AddExceptionHandler<StorageUnavailableHandler>();
        services.AddOptions<ApiOptions>().Bind(config.GetSection(ApiOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdminKeyOptions>().Bind(config.GetSection(QueueApiOptions.SectionName));
        services.Configure<HostOptions>(config.GetSection("HostOptions"));
        services.AddSingleton<IValidateOptions<QueueApiOptions>, ShutdownBudgetValidator>();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, ReportJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, ScheduleJsonContext.Default);
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        });
        // Binding failures throw in every environment (not only Development), so their answer names the parameter.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDefaults.Explain);
        services.AddQueueHealthChecks();
        services.AddQueueOpenApi();
        services.AddQueueMetrics();
        services.AddDashboard();
        services.AddQueueTracing(config);
        return builder;
    }
}

/// <summary>At start-up, checks that a whole graceful stop fits in the host's shutdown timeout.</summary>
internal sealed class ShutdownBudgetValidator(IOptions<HostOptions> host) : IValidateOptions<QueueApiOptions>
{
    // Room for the web server to finish its last responses after the engine is done.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    public ValidateOptionsResult Validate(string? name, QueueApiOptions options)
    {
        var s = options.Shutdown;
        var budget = s.DrainTimeout + s.CancelGrace + s.JoinTimeout + Margin;
        var limit = host.Value.ShutdownTimeout;
        return budget <= limit
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"QueueApi:Shutdown: DrainTimeout ({s.DrainTimeout}) + CancelGrace ({s.CancelGrace}) + JoinTimeout ({s.JoinTimeout}) + {Margin.TotalSeconds:0} s margin = {budget} " +
                $"does not fit in HostOptions:ShutdownTimeout ({limit}). Raise HostOptions:ShutdownTimeout or lower those settings.");
    }
}
