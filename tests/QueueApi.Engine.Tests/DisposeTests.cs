using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;

namespace QueueApi.Engine.Tests;

public sealed class DisposeTests
{
    [Fact]
    public void AnEngineThatNeverStartedDisposesWithoutThrowingAndStartsNoThread()
    {
        var engine = new QueueEngine(
            Options.Create(new QueueApiOptions { Queues = { ["q"] = new QueueOptions { Workers = 2, Handler = "test" } } }),
            _ => DelegateHandler.Ok(), new FakeTimeProvider(DateTimeOffset.UnixEpoch), NullLogger<QueueEngine>.Instance);

        engine.Dispose();

        Assert.All(engine.Workers, w => Assert.False(w.Thread.IsAlive));
        Assert.Equal(EngineState.Created, engine.State);
    }
}
