using QueueApi.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddQueueApi();

var app = builder.Build();
app.MapQueueApi();

try
{
    await app.StartAsync();
}
catch (Exception ex) when (StartupFailures.ExitCodeFor(ex) is { } code)
{
    // One line naming the cause and a documented exit code. Not disposed: disposing would stop the engine's
    // background workers with a shutdown report, for a service that never served.
    Console.Error.WriteLine(StartupFailures.Describe(ex));
    return code;
}

await app.WaitForShutdownAsync();
await app.DisposeAsync();

// 0 after a clean stop; 3 when a worker faulted, 4 when one was stuck (set by the engine's hosted service).
return Environment.ExitCode;

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
