using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Storage;
using QueueApi.Extensions;
using QueueApi.Storage;
using QueueApi.Storage.Sqlite.Database;

namespace QueueApi.Tests.Api;

/// <summary>
/// What a start-up failure becomes: a documented exit code and one line for the operator, or null (rethrown)
/// for anything the operator cannot fix. The process tests see the same lines; these run in memory.
/// </summary>
public sealed class StartupFailureTests
{
    private static readonly StorageStartupException Locked = new("the database file /data/queueapi.db is locked by another process.");

    private static readonly Dictionary<string, Exception> Failures = new()
    {
        ["a refused store"] = Locked,
        ["a refused store wrapped by the host"] = new InvalidOperationException("start failed", Locked),
        ["a refused store in an aggregate"] = new AggregateException(new TimeoutException("other"), Locked),
        ["invalid settings"] = new OptionsValidationException("QueueApi", typeof(object), ["Workers must be 1 or more."]),
        ["an unreachable store"] = new StorageUnavailableException("cannot reach the database"),
        ["an address in use"] = new IOException("Failed to bind to address http://127.0.0.1:5081: address already in use."),
        ["another I/O error"] = new IOException("disk on fire"),
        ["a bug"] = new InvalidOperationException("boom"),
        ["an aggregate without a refusal"] = new AggregateException(new TimeoutException("slow")),
    };

    [Theory]
    [InlineData("a refused store", StartupFailures.ExitCodeInvalidConfiguration)]
    [InlineData("a refused store wrapped by the host", StartupFailures.ExitCodeInvalidConfiguration)]
    [InlineData("a refused store in an aggregate", StartupFailures.ExitCodeInvalidConfiguration)]
    [InlineData("invalid settings", StartupFailures.ExitCodeInvalidConfiguration)]
    [InlineData("an unreachable store", StartupFailures.ExitCodeInvalidConfiguration)]
    [InlineData("an address in use", StartupFailures.ExitCodeCannotListen)]
    [InlineData("another I/O error", null)]
    [InlineData("a bug", null)]
    [InlineData("an aggregate without a refusal", null)]
    public void EachFailureAnOperatorCanFixHasItsDocumentedExitCodeAndNothingElseDoes(string failure, int? code)
    {
        Assert.Equal(code, StartupFailures.ExitCodeFor(Failures[failure]));
    }

    [Fact]
    public void TheDocumentedExitCodesAreTwoAndFive()
    {
        Assert.Equal(2, StartupFailures.ExitCodeInvalidConfiguration);
        Assert.Equal(5, StartupFailures.ExitCodeCannotListen);
    }

    [Fact]
    public void ARefusedStoreIsOneLineNamingTheFileHoweverDeepItWasWrapped()
    {
        var wrapped = new InvalidOperationException("start failed", new AggregateException(Locked));

        Assert.Equal("QueueApi cannot start: the database file /data/queueapi.db is locked by another process.", StartupFailures.Describe(wrapped));
        Assert.Same(Locked, StorageRefusal.Find(wrapped));
        Assert.Null(StorageRefusal.Find(new InvalidOperationException("start failed", new TimeoutException())));
        Assert.Null(StorageRefusal.Find(null));
    }

    [Fact]
    public void InvalidSettingsListEveryFailureOnItsOwnIndentedLine()
    {
        var invalid = new OptionsValidationException("QueueApi", typeof(object), ["Workers must be 1 or more.", "Capacity must be 1 or more."]);

        var nl = Environment.NewLine;
        Assert.Equal($"QueueApi cannot start: invalid configuration.{nl}  Workers must be 1 or more.{nl}  Capacity must be 1 or more.", StartupFailures.Describe(invalid));
    }

    [Fact]
    public void AnUnreachableStoreSaysWhy()
    {
        Assert.Equal("QueueApi cannot start: cannot reach the database", StartupFailures.Describe(new StorageUnavailableException("cannot reach the database")));
    }

    [Fact]
    public void AnAddressInUseSaysHowToChooseAnother()
    {
        var text = StartupFailures.Describe(new IOException("Failed to bind to address http://127.0.0.1:5081: address already in use."));

        var lines = text.Split(Environment.NewLine);
        Assert.Equal("QueueApi cannot start: Failed to bind to address http://127.0.0.1:5081: address already in use.", lines[0]);
        Assert.StartsWith("  Stop what listens there, or choose another address: --urls", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("Information", true)]
    [InlineData("Debug", false)]
    [InlineData("trace", false)]
    public void TheHostsStartUpErrorIsHeldBackUnlessDebugLoggingOfTheHostIsAskedFor(string? level, bool heldBack)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        if (level is not null)
        {
            builder.Configuration["Logging:LogLevel:Microsoft.Extensions.Hosting"] = level;
        }

        builder.AddStartupFailureReporting();

        Assert.Equal(heldBack, builder.Services.Any(s => s.ServiceType == typeof(StartupFailures.StartedFlag)));
        Assert.Equal(heldBack, builder.Services.Any(s => s.ImplementationType == typeof(StartupFailures.StartedFlag.Setter)));
    }

    [Fact]
    public async Task TheStartedFlagIsSetOnlyOnceTheHostHasStarted()
    {
        var flag = new StartupFailures.StartedFlag();
        using var lifetime = new FakeLifetime();
        var setter = new StartupFailures.StartedFlag.Setter(flag, lifetime);

        await setter.StartAsync(TestContext.Current.CancellationToken);
        Assert.False(flag.Value);
        lifetime.Start();
        Assert.True(flag.Value);
        await setter.StopAsync(TestContext.Current.CancellationToken);
        Assert.True(flag.Value);
    }

    private sealed class FakeLifetime : Microsoft.Extensions.Hosting.IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _started = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void Start() => _started.Cancel();

        public void StopApplication() { }

        public void Dispose() => _started.Dispose();
    }
}
