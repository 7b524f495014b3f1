using Microsoft.Extensions.Options;
using QueueApi.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddQueueApi();

var app = builder.Build();
app.MapQueueApi();

try
{
    app.Run();
}
catch (OptionsValidationException ex)
{
    // A bad setting stops start-up with every message naming its key, and a documented exit code.
    Console.Error.WriteLine($"QueueApi cannot start: invalid configuration.{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", ex.Failures)}");
    return 2;
}

// 0 after a clean stop; 3 when a worker faulted, 4 when one was stuck (set by the engine's hosted service).
return Environment.ExitCode;

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
