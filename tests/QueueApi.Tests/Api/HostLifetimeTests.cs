using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Hosting;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

public sealed class HostLifetimeTests
{
    [Fact]
    public async Task NoWorkerThreadOutlivesADisposedHost()
    {
        List<Thread> threads;
        var app = new QueueApiApplication();
        await using (app)
        {
            using var client = app.CreateClient();
            threads = [.. app.Services.GetRequiredService<QueueEngine>().Workers.Select(w => w.Thread)];
            Assert.Equal(4, threads.Count);
            Assert.All(threads, t => Assert.True(t.IsAlive));
        }

        Assert.All(threads, t => Assert.False(t.IsAlive, $"{t.Name} outlived the host"));
    }

    [Fact]
    public async Task InvalidQueueSettingStopsStartUpNamingTheKey()
    {
        var ex = await StartUpFailureAsync(new Dictionary<string, string?> { ["QueueApi:Queues:default:Handler"] = "missing" });

        Assert.Contains(ex.Failures, f => f.StartsWith("QueueApi:Queues:default:Handler: unknown handler 'missing'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShutdownBudgetThatDoesNotFitTheHostTimeoutStopsStartUp()
    {
        var ex = await StartUpFailureAsync(new Dictionary<string, string?>
        {
            ["QueueApi:Shutdown:DrainTimeout"] = "00:01:00",
            ["HostOptions:ShutdownTimeout"] = "00:00:30",
        });

        Assert.Contains(ex.Failures, f => f.Contains("does not fit in HostOptions:ShutdownTimeout", StringComparison.Ordinal) && f.Contains("DrainTimeout", StringComparison.Ordinal));
    }

    /// <summary>
    /// Resolves the options as start-up does (ValidateOnStart), without a host: WebApplicationFactory cannot report
    /// a start-up failure of a Program that handles it (ours exits 2; the process test checks that).
    /// </summary>
    private static Task<OptionsValidationException> StartUpFailureAsync(Dictionary<string, string?> settings)
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["QueueApi:Queues:default:Workers"] = "2" })
            .AddInMemoryCollection(settings)
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddQueueEngine(config);
        services.Configure<HostOptions>(config.GetSection("HostOptions"));
        services.AddSingleton<IValidateOptions<QueueApiOptions>, QueueApi.Extensions.ShutdownBudgetValidator>();
        using var provider = services.BuildServiceProvider();
        return Task.FromResult(Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<QueueApiOptions>>().Value));
    }
}
