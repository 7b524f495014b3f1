using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Handlers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>The demo handler reads requests only from the properties of a top-level object; any other payload is plain payload, read no further.</summary>
public sealed class HandlerDemoPlainPayloadTests
{
    [Theory]
    [InlineData("""5 {"fail": true}""")]
    [InlineData("""  "text" {"fail": true}""")]
    public async Task APayloadThatIsNotAnObjectIsNotReadPastItsFirstValue(string payload)
    {
        var handler = new DemoHandler(new FakeTimeProvider(), Options.Create(new QueueApiOptions()));

        await handler.HandleAsync(new MessageContext("m-1", "demo", TestEngine.Json(payload), 1, "demo-1"), TestContext.Current.CancellationToken);
    }
}
