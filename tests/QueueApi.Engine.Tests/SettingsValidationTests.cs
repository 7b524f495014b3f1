using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Hosting;

namespace QueueApi.Engine.Tests;

/// <summary>
/// Every time setting is checked as the service reads it (configuration through <c>AddQueueEngine</c>), and the
/// failure names the key, what it must be and what it was; the edge values that are allowed stay allowed.
/// </summary>
public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("Queues:q:BaseDelay", "-00:00:01", "QueueApi:Queues:q:BaseDelay: must be zero or more (was -00:00:01).")]
    [InlineData("Queues:q:MaxDelay", "-00:00:01", "QueueApi:Queues:q:MaxDelay: must be zero or more (was -00:00:01).")]
    [InlineData("Queues:q:AttemptTimeout", "00:00:00", "QueueApi:Queues:q:AttemptTimeout: must be more than zero (was 00:00:00).")]
    [InlineData("Queues:q:AttemptTimeout", "-00:00:01", "QueueApi:Queues:q:AttemptTimeout: must be more than zero (was -00:00:01).")]
    [InlineData("Queues:q:StuckGrace", "00:00:00", "QueueApi:Queues:q:StuckGrace: must be more than zero (was 00:00:00).")]
    [InlineData("Queues:q:CircuitBreaker:BreakDuration", "00:00:00", "QueueApi:Queues:q:CircuitBreaker:BreakDuration: must be more than zero (was 00:00:00).")]
    [InlineData("Queues:q:CircuitBreaker:SamplingDuration", "00:00:00", "QueueApi:Queues:q:CircuitBreaker:SamplingDuration: must be more than zero (was 00:00:00).")]
    [InlineData("Shutdown:DrainTimeout", "-00:00:01", "QueueApi:Shutdown:DrainTimeout: must be zero or more (was -00:00:01).")]
    [InlineData("Shutdown:CancelGrace", "00:00:00", "QueueApi:Shutdown:CancelGrace: must be more than zero (was 00:00:00).")]
    [InlineData("Shutdown:JoinTimeout", "00:00:00", "QueueApi:Shutdown:JoinTimeout: must be more than zero (was 00:00:00).")]
    [InlineData("Queues:q:IdempotencyWindow", "00:00:00", "QueueApi:Queues:q:IdempotencyWindow: must be more than zero (was 00:00:00).")]
    [InlineData("Queues:q:PriorityAging", "-00:00:01", "QueueApi:Queues:q:PriorityAging: must be zero or more (was -00:00:01).")]
    [InlineData("Scheduler:MisfireGrace", "-00:00:01", "QueueApi:Scheduler:MisfireGrace: must be zero or more (was -00:00:01).")]
    public void BadTimeSettingIsRefusedNamingItsKey(string key, string value, string expected)
    {
        var failures = Failures(new() { [$"QueueApi:{key}"] = value });

        Assert.Contains(expected, failures);
    }

    [Fact]
    public void MaxDelayBelowBaseDelayIsRefused()
    {
        var failures = Failures(new() { ["QueueApi:Queues:q:BaseDelay"] = "00:00:02", ["QueueApi:Queues:q:MaxDelay"] = "00:00:01" });

        Assert.Equal(["QueueApi:Queues:q:MaxDelay: must be at least BaseDelay (00:00:02)."], failures);
    }

    [Fact]
    public void ZeroDelaysAndZeroDrainAreAllowedAndEqualDelaysToo()
    {
        var failures = Failures(new()
        {
            ["QueueApi:Queues:q:BaseDelay"] = "00:00:00",
            ["QueueApi:Queues:q:MaxDelay"] = "00:00:00",
            ["QueueApi:Queues:r:BaseDelay"] = "00:00:01",
            ["QueueApi:Queues:r:MaxDelay"] = "00:00:01",
            ["QueueApi:Shutdown:DrainTimeout"] = "00:00:00",
            ["QueueApi:Queues:q:PriorityAging"] = "00:00:00",
            ["QueueApi:Scheduler:MisfireGrace"] = "00:00:00",
        });

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("0-queue")]
    [InlineData("q-123456789-123456789-123456789-123456789-123456789-123456789-1")]
    public void QueueNamesOfLowercaseLettersDigitsAndDashesUpTo63AreAllowed(string name)
    {
        Assert.Empty(Failures(new() { [$"QueueApi:Queues:{name}:Workers"] = "1" }, defaultQueue: false));
    }

    [Theory]
    [InlineData("-q")]
    [InlineData("Q")]
    [InlineData("q_1")]
    [InlineData("q-123456789-123456789-123456789-123456789-123456789-123456789-12")]
    public void OtherQueueNamesAreRefused(string name)
    {
        var failures = Failures(new() { [$"QueueApi:Queues:{name}:Workers"] = "1" }, defaultQueue: false);

        Assert.Equal(
            [$"QueueApi:Queues:{name}: queue name '{name}' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter or digit."],
            failures);
    }

    [Fact]
    public void NoQueuesConfiguredMeansOneDefaultQueue()
    {
        using var provider = Provider(new(), defaultQueue: false);

        var options = provider.GetRequiredService<IOptions<QueueApiOptions>>().Value;

        Assert.Equal(["default"], options.Queues.Keys);
    }

    private static string[] Failures(Dictionary<string, string?> settings, bool defaultQueue = true)
    {
        using var provider = Provider(settings, defaultQueue);
        try
        {
            _ = provider.GetRequiredService<IOptions<QueueApiOptions>>().Value;
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings, bool defaultQueue)
    {
        if (defaultQueue)
        {
            settings.TryAdd("QueueApi:Queues:q:Workers", "1");
        }

        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddQueueEngine(config).BuildServiceProvider();
    }
}
