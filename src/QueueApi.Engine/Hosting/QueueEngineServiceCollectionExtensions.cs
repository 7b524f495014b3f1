using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Hosting;

/// <summary>Registers the engine, its options, its storage (memory unless one was registered before), the built-in handlers and the hosted service that runs it.</summary>
public static class QueueEngineServiceCollectionExtensions
{
    public static IServiceCollection AddQueueEngine(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(QueueApiOptions.SectionName);
        services.AddOptions<QueueApiOptions>()
            .Configure(_ => ConfiguredNames.Check(section)) // before binding: the binder would take "1" for a name
            .Bind(section)
            .PostConfigure(o =>
            {
                if (o.Queues.Count == 0)
                {
                    o.Queues["default"] = new QueueOptions();
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueueApiOptions>, QueueApiOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // Stryker disable once Statement : CatalogOf registers a new catalog itself (and TryAdd then adds nothing); the AddQueueHandler calls below make it anyway.
        services.TryAddSingleton(CatalogOf(services));
        services.TryAddSingleton<IMessageStorage>(sp => new MemoryStorage(sp.GetRequiredService<TimeProvider>()));
        services.AddQueueHandler<LogHandler>(LogHandler.Name);
        services.AddQueueHandler<DemoHandler>(DemoHandler.Name);

        // One object, registered once, forwarded as the hosted service.
        services.TryAddSingleton(sp => new QueueEngine(
            sp.GetRequiredService<IOptions<QueueApiOptions>>(),
            name => sp.GetRequiredKeyedService<IMessageHandler>(name),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<QueueEngine>>(),
            engine => new EngineMetrics(sp.GetRequiredService<IMeterFactory>(), () => engine.Queues),
            sp.GetRequiredService<IMessageStorage>()));
        services.TryAddSingleton<IHostStopper, LifetimeHostStopper>();
        services.AddSingleton<QueueEngineHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<QueueEngineHostedService>());

        // Recurring schedules: after the engine, so they start after it and stop before it.
        services.TryAddSingleton<IScheduleStore, MemoryScheduleStore>();
        services.TryAddSingleton(sp => new Scheduler(
            sp.GetRequiredService<IScheduleStore>(),
            sp.GetRequiredService<QueueEngine>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<QueueApiOptions>>().Value.Scheduler,
            sp.GetRequiredService<ILogger<Scheduler>>()));
        services.TryAddSingleton<ScheduleManager>();
        services.AddHostedService<SchedulerHostedService>();
        return services;
    }

    /// <summary>Registers a handler under the name that queues use in their <c>Handler</c> setting.</summary>
    public static IServiceCollection AddQueueHandler<THandler>(this IServiceCollection services, string name)
        where THandler : class, IMessageHandler
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        CatalogOf(services).Add(name);
        services.AddKeyedSingleton<IMessageHandler, THandler>(name);
        return services;
    }

    private static HandlerCatalog CatalogOf(IServiceCollection services)
    {
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(HandlerCatalog) && d.ImplementationInstance is not null);
        if (existing?.ImplementationInstance is HandlerCatalog catalog)
        {
            return catalog;
        }

        catalog = new HandlerCatalog();
        services.AddSingleton(catalog);
        return catalog;
    }
}
