using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace QueueApi.Tests.Support;

/// <summary>The service in memory, with settings swapped per test. Dispose with <c>await using</c>.</summary>
public sealed class QueueApiApplication(IDictionary<string, string?>? settings = null, string environment = "Development")
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
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
            };
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
            {
                defaults[k] = v;
            }

            config.AddInMemoryCollection(defaults);
        });
    }
}
