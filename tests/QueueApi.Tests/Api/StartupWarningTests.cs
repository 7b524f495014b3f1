using Microsoft.Extensions.Logging;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Api;

/// <summary>A service running with its guards down says so at start-up.</summary>
public sealed class StartupWarningTests
{
    private static IReadOnlyList<string> Warnings(QueueApiApplication app) =>
        [.. app.Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Category == "QueueApi.Extensions.StartupWarnings").Select(e => e.Message)];

    [Fact]
    public async Task DevelopmentWarnsThatAdminActionsAreOpenAndFaultInjectionIsOn()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Chaos:Enabled"] = "true" });
        using var client = app.CreateClient();

        var warnings = Warnings(app);

        Assert.Contains(warnings, w => w.StartsWith("Admin actions are open without a key (Development environment)", StringComparison.Ordinal) && w.Contains("--launch-profile production", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("Fault injection is on (QueueApi:Chaos:Enabled, Development environment): POST /workers/{id}/crash", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProductionWithChaosOnWarnsOnlyAboutFaultInjection()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Chaos:Enabled"] = "true" }, environment: "Production");
        using var client = app.CreateClient();

        var warnings = Warnings(app);

        Assert.Single(warnings);
        Assert.StartsWith("Fault injection is on (QueueApi:Chaos:Enabled, Production environment)", warnings[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProductionWithItsGuardsUpWarnsOfNothing()
    {
        await using var app = new QueueApiApplication(new Dictionary<string, string?> { ["QueueApi:Chaos:Enabled"] = "false" }, environment: "Production");
        using var client = app.CreateClient();

        Assert.Empty(Warnings(app));
    }
}
