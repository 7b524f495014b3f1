using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;
using QueueApi.Engine.Messages;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>What handlers see (the message id, however the context was made) and what the built-in ones do with it.</summary>
public sealed class HandlerContextTests
{
    /// <summary>A logger that keeps what it is asked to write, at the level it is told to be enabled for.</summary>
    private sealed class ListLogger(LogLevel enabledFrom) : ILogger<LogHandler>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= enabledFrom;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }

    [Fact]
    public void AContextMadeWithAnIdReturnsThatId()
    {
        var context = new MessageContext("m-42", "q", TestEngine.Json("{}"), 1, "q-1");

        Assert.Equal("m-42", context.Id);
    }

    [Fact]
    public void AContextMadeFromAMessageReturnsTheMessagesId()
    {
        var message = new QueueMessage(new MessageKey(0x123, 0x45), "q", TestEngine.Json("{}"), DateTimeOffset.UnixEpoch);

        var context = new MessageContext(message, "q", "q-1");

        Assert.Equal("00000000012300000045", context.Id);
    }

    [Fact]
    public void ADefaultContextHasAnEmptyId()
    {
        Assert.Equal("", default(MessageContext).Id);
    }

    [Fact]
    public async Task TheLogHandlerLogsThePayloadWithTheIdQueueAndWorker()
    {
        var logger = new ListLogger(LogLevel.Information);

        await new LogHandler(logger).HandleAsync(new MessageContext("m-1", "q", TestEngine.Json("""{"a":1}"""), 1, "q-2"), CancellationToken.None);

        Assert.Equal(["""Message m-1 on q handled by q-2: {"a":1}"""], logger.Lines);
    }

    [Fact]
    public async Task TheLogHandlerWritesNothingWhenInformationIsOff()
    {
        var logger = new ListLogger(LogLevel.Warning);

        await new LogHandler(logger).HandleAsync(new MessageContext("m-1", "q", TestEngine.Json("{}"), 1, "q-2"), CancellationToken.None);

        Assert.Empty(logger.Lines);
    }

    [Fact]
    public async Task TheDemoHandlerWithNoSleepAskedDoesNotWaitSoAnEndingAttemptStillSucceeds()
    {
        var handler = new DemoHandler(new FakeTimeProvider(), Options.Create(new QueueApiOptions()));

        // A cancelled token makes any wait end in cancellation: a payload without sleepMs must not wait at all.
        await handler.HandleAsync(new MessageContext("m-1", "demo", TestEngine.Json("""{"sleepMs": 0}"""), 1, "demo-1"), new CancellationToken(canceled: true));
        await handler.HandleAsync(new MessageContext("m-2", "demo", TestEngine.Json("{}"), 1, "demo-1"), new CancellationToken(canceled: true));
    }
}
