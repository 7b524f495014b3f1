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

public sealed class ScheduleOptionsValidationTests
{
    [Theory]
    [InlineData("Cron", "0 7 * *", "QueueApi:Schedules:nightly:Cron: '0 7 * *' has 4 fields; use five (minute hour day month weekday) or six with seconds first.")]
    [InlineData("Cron", "61 * * * *", "QueueApi:Schedules:nightly:Cron: '61 * * * *' is not a valid cron expression")]
    [InlineData("TimeZone", "Mars/Olympus", "QueueApi:Schedules:nightly:TimeZone: 'Mars/Olympus' is not a time zone this machine knows")]
    [InlineData("Queue", "nope", "QueueApi:Schedules:nightly:Queue: there is no queue named 'nope'; configured queues: orders.")]
    [InlineData("Payload", "{not json", "QueueApi:Schedules:nightly:Payload: is not a JSON value")]
    [InlineData("Priority", "10", "QueueApi:Schedules:nightly:Priority: 10 is not from 0 to 9.")]
    public void AnInvalidConfiguredScheduleNamesItsKey(string property, string value, string expected)
    {
        var s = new ScheduleOptions { Queue = "orders", Cron = "0 3 * * *", TimeZone = "Europe/Berlin" };
        switch (property)
        {
            case "Cron": s.Cron = value; break;
            case "TimeZone": s.TimeZone = value; break;
            case "Queue": s.Queue = value; break;
            case "Payload": s.Payload = value; break;
            default: s.Priority = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
        }

        var catalog = new HandlerCatalog();
        catalog.Add("log");
        var options = new QueueApiOptions { Queues = { ["orders"] = new QueueOptions() }, Schedules = { ["nightly"] = s } };

        var result = new QueueApiOptionsValidator(catalog).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Single(result.Failures!);
        Assert.StartsWith(expected, result.Failures!.Single(), StringComparison.Ordinal);
    }
}
