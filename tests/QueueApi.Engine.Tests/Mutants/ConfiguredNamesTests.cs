using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Hosting;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>Settings whose values are names take a name in any casing; anything else stops start-up naming the key and the names.</summary>
public sealed class ConfiguredNamesTests
{
    private static (QueueApiOptions? Options, string[] Failures) Read(Dictionary<string, string?> settings)
    {
        settings.TryAdd("QueueApi:Queues:q:Workers", "1");
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddQueueEngine(config).BuildServiceProvider();
        try
        {
            return (provider.GetRequiredService<IOptions<QueueApiOptions>>().Value, []);
        }
        catch (OptionsValidationException ex)
        {
            return (null, [.. ex.Failures]);
        }
    }

    [Fact]
    public void AShutdownModeThatIsNotANameIsRefused()
    {
        var (_, failures) = Read(new() { ["QueueApi:Shutdown:DefaultMode"] = "1" });

        Assert.Equal(["QueueApi:Shutdown:DefaultMode: '1' is not a shutdown mode; use Drain or Immediate (the name, in any casing)."], failures);
    }

    [Fact]
    public void AMisfirePolicyThatIsNotANameIsRefusedForEachSchedule()
    {
        var (_, failures) = Read(new()
        {
            ["QueueApi:Schedules:a:Queue"] = "q",
            ["QueueApi:Schedules:a:Cron"] = "* * * * *",
            ["QueueApi:Schedules:a:Misfire"] = "0",
            ["QueueApi:Schedules:b:Queue"] = "q",
            ["QueueApi:Schedules:b:Cron"] = "* * * * *",
            ["QueueApi:Schedules:b:Misfire"] = "RunOnce,Skip",
        });

        Assert.Equal(
            [
                "QueueApi:Schedules:a:Misfire: '0' is not a misfire policy; use RunOnce or Skip (the name, in any casing).",
                "QueueApi:Schedules:b:Misfire: 'RunOnce,Skip' is not a misfire policy; use RunOnce or Skip (the name, in any casing).",
            ],
            failures);
    }

    [Fact]
    public void NamesInAnyCasingAreTaken()
    {
        var (options, failures) = Read(new()
        {
            ["QueueApi:Schedules:a:Queue"] = "q",
            ["QueueApi:Schedules:a:Cron"] = "* * * * *",
            ["QueueApi:Schedules:a:Misfire"] = "skip",
            ["QueueApi:Shutdown:DefaultMode"] = "IMMEDIATE",
        });

        Assert.Empty(failures);
        Assert.Equal(MisfirePolicy.Skip, options!.Schedules["a"].Misfire);
        Assert.Equal(ShutdownMode.Immediate, options.Shutdown.DefaultMode);
    }
}
