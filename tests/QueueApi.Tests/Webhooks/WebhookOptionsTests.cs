using QueueApi.Engine.Configuration;
using QueueApi.Tests.Support;
using QueueApi.Webhooks;

namespace QueueApi.Tests.Webhooks;

public sealed class WebhookOptionsTests
{
    private static IReadOnlyList<string> Failures(WebhookOptions? hook)
    {
        var options = new QueueApiOptions { Queues = { ["hooks"] = new QueueOptions { Handler = "webhook", Webhook = hook } } };
        var result = new WebhookOptionsValidator().Validate(null, options);
        return result.Failures?.ToList() ?? [];
    }

    [Theory]
    [InlineData(null, "QueueApi:Queues:hooks:Webhook:Url: required with Handler 'webhook'; set an absolute http or https URL.")]
    [InlineData("/relative/path", "QueueApi:Queues:hooks:Webhook:Url: '/relative/path' is not an absolute http or https URL.")]
    [InlineData("ftp://example.com/hook", "QueueApi:Queues:hooks:Webhook:Url: 'ftp://example.com/hook' is not an absolute http or https URL.")]
    public void AWebhookQueueWithoutAUsableUrlIsRefusedNamingTheKey(string? url, string expected)
    {
        Assert.Equal([expected], Failures(new WebhookOptions { Url = url }));
    }

    [Fact]
    public void ATimeoutLongerThanTheAttemptTimeoutIsRefused()
    {
        var failures = Failures(new WebhookOptions { Url = "https://example.com/hook", Timeout = TimeSpan.FromMinutes(5) });

        Assert.Single(failures, f => f.StartsWith("QueueApi:Queues:hooks:Webhook:Timeout: must be more than zero and at most", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ATimeoutOfZeroOrLessIsRefused(int seconds)
    {
        var failures = Failures(new WebhookOptions { Url = "https://example.com/hook", Timeout = TimeSpan.FromSeconds(seconds) });

        Assert.Single(failures, f => f.StartsWith("QueueApi:Queues:hooks:Webhook:Timeout: must be more than zero and at most", StringComparison.Ordinal));
    }

    [Fact]
    public void ATimeoutEqualToTheAttemptTimeoutPasses()
    {
        var options = new QueueApiOptions { Queues = { ["hooks"] = new QueueOptions { Handler = "webhook", AttemptTimeout = TimeSpan.FromSeconds(30), Webhook = new WebhookOptions { Url = "https://example.com/hook", Timeout = TimeSpan.FromSeconds(30) } } } };

        Assert.True(new WebhookOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("")]
    [InlineData("X Bad")]
    [InlineData("X:Bad")]
    [InlineData("X(Bad)")]
    [InlineData("Caf\u00e9")]
    [InlineData("X\u007fBad")]
    public void AHeaderNameThatIsNotATokenIsRefusedNamingIt(string escaped)
    {
        var header = System.Text.RegularExpressions.Regex.Unescape(escaped);

        var failures = Failures(new WebhookOptions { Url = "https://example.com/hook", Headers = { [header] = "v" } });

        Assert.Equal([$"QueueApi:Queues:hooks:Webhook:Headers: '{header}' is not a valid header name."], failures);
    }

    [Fact]
    public void EveryProblemOfOneWebhookIsListedAtOnce()
    {
        var failures = Failures(new WebhookOptions { Url = "ftp://example.com", Timeout = TimeSpan.Zero, Headers = { ["A B"] = "v" } });

        Assert.Equal(3, failures.Count);
    }

    [Fact]
    public void AValidWebhookAndQueuesWithOtherHandlersPass()
    {
        Assert.Empty(Failures(new WebhookOptions { Url = "http://127.0.0.1:9/hook", Headers = { ["Authorization"] = "Bearer x" } }));
        var other = new QueueApiOptions { Queues = { ["default"] = new QueueOptions() } };
        Assert.True(new WebhookOptionsValidator().Validate(null, other).Succeeded);
    }

    [Fact]
    public async Task AWebhookUrlThatIsNotAbsoluteStopsStartUpWithExit2NamingTheKey()
    {
        var dll = ServiceProcess.ServiceDll();
        var info = ChildProcess.Info("dotnet", [dll, "--urls", "http://127.0.0.1:0"], Path.GetDirectoryName(dll)!, new Dictionary<string, string>
        {
            ["QueueApi__Queues__hooks__Handler"] = "webhook",
            ["QueueApi__Queues__hooks__Webhook__Url"] = "not a url",
        });

        var run = await ChildProcess.RunAsync(info, TimeSpan.FromSeconds(30));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("QueueApi:Queues:hooks:Webhook:Url", run.Stderr, StringComparison.Ordinal);
    }
}
