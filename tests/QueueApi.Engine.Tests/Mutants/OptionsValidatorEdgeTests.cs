using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>
/// The settings check called directly, for what configuration binding cannot produce (a null entry) and for the
/// nested settings: each error is listed once, under the key that holds the wrong value.
/// </summary>
public sealed class OptionsValidatorEdgeTests
{
    private static string[] Failures(QueueApiOptions options)
    {
        var handlers = new HandlerCatalog();
        handlers.Add("test");
        var result = new QueueApiOptionsValidator(handlers).Validate(null, options);
        return result.Failed ? [.. result.Failures] : [];
    }

    private static QueueOptions Queue(Action<QueueOptions>? change = null)
    {
        var q = new QueueOptions { Handler = "test" };
        change?.Invoke(q);
        return q;
    }

    [Fact]
    public void AQueueWithoutSettingsIsNamedAndTheOthersAreStillChecked()
    {
        var options = new QueueApiOptions { Queues = { ["a"] = null!, ["b"] = Queue(q => q.Workers = 0) } };

        Assert.Equal(["QueueApi:Queues:a: settings are missing.", "QueueApi:Queues:b:Workers: Workers must be between 1 and 256."], Failures(options));
    }

    [Fact]
    public void AScheduleWithoutSettingsIsNamed()
    {
        var options = new QueueApiOptions { Queues = { ["q"] = Queue() }, Schedules = { ["s"] = null! } };

        Assert.Equal(["QueueApi:Schedules:s: settings are missing."], Failures(options));
    }

    [Fact]
    public void ACircuitBreakerOutOfRangeIsNamed()
    {
        var options = new QueueApiOptions { Queues = { ["q"] = Queue(q => q.CircuitBreaker.FailureRatio = 2) } };

        var failure = Assert.Single(Failures(options));
        Assert.StartsWith("QueueApi:Queues:q:FailureRatio: ", failure);
    }

    [Fact]
    public void AQueueErrorIsNotRepeatedUnderItsRateLimit()
    {
        var options = new QueueApiOptions { Queues = { ["q"] = Queue(q => { q.Workers = 0; q.RateLimit = new RateLimitOptions { PermitsPerSecond = 1 }; }) } };

        Assert.Equal(["QueueApi:Queues:q:Workers: Workers must be between 1 and 256."], Failures(options));
    }

    [Fact]
    public void AScheduleNameErrorIsUnderTheSchedulesKeyAndAFieldErrorUnderTheFieldsKey()
    {
        var options = new QueueApiOptions
        {
            Queues = { ["q"] = Queue() },
            Schedules =
            {
                ["bad name"] = new ScheduleOptions { Queue = "q", Cron = "* * * * *" },
                ["good"] = new ScheduleOptions { Queue = "q", Cron = "* * * * *", Priority = 12 },
            },
        };

        Assert.Equal(
            [
                "QueueApi:Schedules:bad name: 'bad name' is not a schedule name; use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.",
                "QueueApi:Schedules:good:Priority: 12 is not from 0 to 9.",
            ],
            Failures(options));
    }
}
