using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using QueueApi.Engine.Hosting;

namespace QueueApi.Tests.Support;

/// <summary>
/// The service in memory, with settings swapped per test. Dispose with <c>await using</c>. Durable storage (the
/// default) goes to a database file in a temporary folder of this factory's own, deleted with it.
/// </summary>
public sealed class QueueApiApplication(
    IDictionary<string, string?>? settings = null,
    string environment = "Development",
    bool holdHostOnStop = false,
    Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    /// <summary>The service on the Memory store, which implements delayed delivery, cancel, idempotency keys and priorities.</summary>
    public static QueueApiApplication OnMemory(params (string Key, string Value)[] more) => On("Memory", more);

    /// <summary>The service on the named storage provider ("Memory", "Sqlite"), for tests that hold for every store.</summary>
    public static QueueApiApplication On(string provider, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["QueueApi:Storage:Provider"] = provider };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return new QueueApiApplication(settings);
    }

    /// <summary>With <c>holdHostOnStop</c>, records the service's requests to stop the host instead of obeying them.</summary>
    public HeldLifetime Lifetime { get; } = new();

    /// <summary>What the service logged (warnings and above unless the settings lower the level).</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>This factory's own folder for the database file.</summary>
    public string DataFolder { get; } = Directory.CreateTempSubdirectory("queueapi-test-").FullName;

    public string DatabasePath => Path.Combine(DataFolder, "queueapi.db");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataFolder, recursive: true);
        }
        catch (IOException)
        {
            // Still held by a host that did not stop in time; the OS cleans its temp folder.
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        if (holdHostOnStop)
        {
            // Keeps the in-memory host up after a fatal stop so the test can still look at health and the report.
            builder.ConfigureServices(services => services.AddSingleton<IHostStopper>(Lifetime));
        }

        if (services is not null)
        {
            builder.ConfigureServices(services);
        }

        builder.ConfigureAppConfiguration((_, config) =>
        {
            // Replace the shipped queues so each test knows exactly which workers exist.
            var defaults = new Dictionary<string, string?>
            {
                ["QueueApi:Queues:default:Workers"] = "2",
                ["QueueApi:Queues:default:Handler"] = "log",
                ["QueueApi:Queues:demo:Workers"] = "2",
                ["QueueApi:Queues:demo:Handler"] = "demo",
                ["QueueApi:Queues:demo:BaseDelay"] = "00:00:00.010",
                ["QueueApi:Queues:demo:MaxDelay"] = "00:00:00.050",
                ["Logging:LogLevel:Default"] = "Warning",
                ["QueueApi:Storage:Path"] = DatabasePath,
                // A test's last in-flight message (a demo sleep it watched) is cut off when the test ends, not waited
                // for: seconds per test otherwise, and per mutant in a mutation run. Drain tests set their own.
                ["QueueApi:Shutdown:DrainTimeout"] = "00:00:00.250",
            };
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
            {
                defaults[k] = v;
            }

            config.AddInMemoryCollection(defaults);
        });
    }
}

/// <summary>Records the service's requests to stop the host instead of stopping it.</summary>
public sealed class HeldLifetime : IHostStopper
{
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StopRequested => _stopRequested.Task;

    public void StopHost() => _stopRequested.TrySetResult();
}
