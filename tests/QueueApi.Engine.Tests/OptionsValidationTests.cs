using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;

namespace QueueApi.Engine.Tests;

public sealed class OptionsValidationTests
{
    private static QueueApiOptionsValidator Validator()
    {
        var catalog = new HandlerCatalog();
        catalog.Add("log");
        catalog.Add("demo");
        return new QueueApiOptionsValidator(catalog);
    }

    [Theory]
    [InlineData("Workers", "0", "QueueApi:Queues:orders:Workers: Workers must be between 1 and 256.")]
    [InlineData("Capacity", "-1", "QueueApi:Queues:orders:Capacity: Capacity must be between 1 and 10000000.")]
    [InlineData("MaxCrashes", "0", "QueueApi:Queues:orders:MaxCrashes: MaxCrashes must be between 1 and 100.")]
    [InlineData("Handler", "nope", "QueueApi:Queues:orders:Handler: unknown handler 'nope'; registered handlers: demo, log.")]
    public void InvalidQueueSettingNamesItsKey(string property, string value, string expected)
    {
        var q = new QueueOptions();
        switch (property)
        {
            case "Workers": q.Workers = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "Capacity": q.Capacity = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "MaxCrashes": q.MaxCrashes = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            default: q.Handler = value; break;
        }

        var result = Validator().Validate(null, new QueueApiOptions { Queues = { ["orders"] = q } });

        Assert.True(result.Failed);
        Assert.Contains(expected, result.Failures!);
    }

    [Fact]
    public void BadQueueNameIsRefused()
    {
        var result = Validator().Validate(null, new QueueApiOptions { Queues = { ["Bad Name!"] = new QueueOptions() } });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("QueueApi:Queues:Bad Name!: queue name 'Bad Name!' is invalid", StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultSettingsAreValid()
    {
        var result = Validator().Validate(null, new QueueApiOptions { Queues = { ["default"] = new QueueOptions() } });

        Assert.True(result.Succeeded, string.Join("; ", result.Failures ?? []));
    }

    [Theory]
    [InlineData(0, 1, "QueueApi:Queues:orders:RateLimit:PermitsPerSecond: PermitsPerSecond must be between 0.001 and 1000000.")]
    [InlineData(10, 0, "QueueApi:Queues:orders:RateLimit:Burst: Burst must be between 1 and 1000000.")]
    public void InvalidRateLimitNamesItsKey(double permitsPerSecond, int burst, string expected)
    {
        var q = new QueueOptions { RateLimit = new RateLimitOptions { PermitsPerSecond = permitsPerSecond, Burst = burst } };

        var result = Validator().Validate(null, new QueueApiOptions { Queues = { ["orders"] = q } });

        Assert.Equal([expected], result.Failures!);
    }
}
