using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using QueueApi.Extensions;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>
/// Start-up checks as the real service wires them (Program and its extensions, through the factory), so a check
/// that is written and tested but no longer registered fails here.
/// </summary>
public sealed class StartUpValidationTests
{
    [Fact]
    public async Task RealServiceRefusesAShutdownBudgetThatDoesNotFitTheHostTimeout()
    {
        // The service as Program builds it (AddQueueApi), started as Program starts it. WebApplicationFactory cannot
        // show this failure: Program catches it and exits 2 (ServiceProcessTests checks that exit).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["QueueApi:Shutdown:DrainTimeout"] = "00:01:00",
            ["HostOptions:ShutdownTimeout"] = "00:00:30",
            ["Logging:LogLevel:Default"] = "None",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddQueueApi();
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        var failure = Assert.Single(ex.Failures, f => f.Contains("does not fit in HostOptions:ShutdownTimeout", StringComparison.Ordinal));
        Assert.Contains("DrainTimeout (00:01:00)", failure, StringComparison.Ordinal);
        Assert.Contains("(00:00:30)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealServiceStartsWhenTheShutdownBudgetFitsExactly()
    {
        // Drain 20 s + cancel grace 5 s + join 4 s + the 1 s margin = 30 s: fits a 30 s host timeout exactly.
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            ["QueueApi:Shutdown:DrainTimeout"] = "00:00:20",
            ["QueueApi:Shutdown:CancelGrace"] = "00:00:05",
            ["QueueApi:Shutdown:JoinTimeout"] = "00:00:04",
            ["HostOptions:ShutdownTimeout"] = "00:00:30",
        });

        using var client = app.CreateClient();
        using var live = await client.GetAsync("/health/live", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
    }

    [Theory]
    [InlineData("QueueApi:Schedules:nightly:Misfire", "1", "'1' is not a misfire policy; use RunOnce or Skip")]
    [InlineData("QueueApi:Schedules:nightly:Misfire", "RunOnce,Skip", "'RunOnce,Skip' is not a misfire policy")]
    [InlineData("QueueApi:Schedules:nightly:Misfire", "sometimes", "'sometimes' is not a misfire policy")]
    [InlineData("QueueApi:Shutdown:DefaultMode", "0", "'0' is not a shutdown mode; use Drain or Immediate")]
    public async Task RealServiceRefusesANamedSettingThatIsNotOneOfItsNamesAndNamesTheKey(string key, string value, string expected)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["QueueApi:Schedules:nightly:Queue"] = "demo",
            ["QueueApi:Schedules:nightly:Cron"] = "0 3 * * *",
            [key] = value,
            ["Logging:LogLevel:Default"] = "None",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddQueueApi();
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(2, StartupFailures.ExitCodeFor(ex));
        Assert.Contains($"{key}: {expected}", Assert.Single(ex.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealServiceTakesAMisfirePolicyByNameInAnyCasing()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?>
        {
            ["QueueApi:Schedules:nightly:Queue"] = "demo",
            ["QueueApi:Schedules:nightly:Cron"] = "0 3 * * *",
            ["QueueApi:Schedules:nightly:Misfire"] = "skip",
        });

        using var client = app.CreateClient();
        using var response = await client.GetAsync("/schedules/nightly", TestContext.Current.CancellationToken);

        Assert.Contains("\"misfire\":\"skip\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}
