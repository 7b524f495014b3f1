using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Diagnostics;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Hosting;
using QueueApi.Engine.Scheduling;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Storage.Memory;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>What <c>AddQueueEngine</c> puts in the container: every service the host needs resolves, once, to the right thing.</summary>
public sealed class HostingRegistrationTests
{
    private sealed class Lifetime : IHostApplicationLifetime
    {
        public int Stops;

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => Interlocked.Increment(ref Stops);
    }

    private sealed class CustomHandler : IMessageHandler
    {
        public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>The services a host brings (logging, metrics, its lifetime), then the engine's own.</summary>
    private static ServiceCollection Host(Lifetime? lifetime = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<IMeterFactory, NullMeterFactory>();
        services.AddSingleton<IHostApplicationLifetime>(lifetime ?? new Lifetime());
        return services;
    }

    private static IConfiguration Config(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    [Fact]
    public void EveryServiceTheHostNeedsResolvesWithTheDefaults()
    {
        using var provider = Host().AddQueueEngine(Config(new() { ["QueueApi:Queues:q:Workers"] = "1" })).BuildServiceProvider();

        Assert.Same(TimeProvider.System, provider.GetService<TimeProvider>());
        Assert.IsType<MemoryStorage>(provider.GetService<IMessageStorage>());
        Assert.IsType<MemoryScheduleStore>(provider.GetService<IScheduleStore>());
        Assert.NotNull(provider.GetService<QueueEngine>());
        Assert.NotNull(provider.GetService<Scheduler>());
        Assert.NotNull(provider.GetService<ScheduleManager>());
        Assert.IsType<LogHandler>(provider.GetKeyedService<IMessageHandler>(LogHandler.Name));
        Assert.IsType<DemoHandler>(provider.GetKeyedService<IMessageHandler>(DemoHandler.Name));
        Assert.Equal([DemoHandler.Name, LogHandler.Name], provider.GetRequiredService<HandlerCatalog>().Names.Order());
    }

    [Fact]
    public void TheEngineIsOneObjectForwardedAsTheHostedServiceAndTheSchedulerStartsAfterIt()
    {
        using var provider = Host().AddQueueEngine(Config(new() { ["QueueApi:Queues:q:Workers"] = "1" })).BuildServiceProvider();

        var hosted = provider.GetServices<IHostedService>().ToList();

        Assert.Equal(2, hosted.Count);
        Assert.Same(provider.GetRequiredService<QueueEngineHostedService>(), hosted[0]);
        Assert.IsType<SchedulerHostedService>(hosted[1]);
    }

    [Fact]
    public void TheHostStopperStopsTheApplicationThroughItsLifetime()
    {
        var lifetime = new Lifetime();
        using var provider = Host(lifetime).AddQueueEngine(Config(new() { ["QueueApi:Queues:q:Workers"] = "1" })).BuildServiceProvider();

        provider.GetRequiredService<IHostStopper>().StopHost();

        Assert.Equal(1, lifetime.Stops);
    }

    [Fact]
    public void AHandlerAddedBeforeTheEngineIsResolvableAndAcceptedByTheSettingsCheck()
    {
        var services = Host();
        services.AddQueueHandler<CustomHandler>("custom");
        services.AddQueueEngine(Config(new() { ["QueueApi:Queues:q:Handler"] = "custom" }));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<QueueApiOptions>>().Value;

        Assert.Equal("custom", options.Queues["q"].Handler);
        Assert.IsType<CustomHandler>(provider.GetKeyedService<IMessageHandler>("custom"));
        Assert.Contains("custom", provider.GetRequiredService<HandlerCatalog>().Names);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void AHandlerNeedsAName(string name)
    {
        var services = new ServiceCollection();

        Assert.Throws<ArgumentException>(() => services.AddQueueHandler<CustomHandler>(name));
        Assert.Empty(services);
    }
}
