using System.Text.Json;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>The OpenAPI document, linted by @redocly/cli with the recommended rules (.ci/tools/redocly.yaml).</summary>
public sealed class OpenApiLintTests
{
    // The list routes and the health probes cannot answer with a 4xx (probes say 200 or 503), so the
    // rule's warning is true and expected there; any other warning fails the test.
    private static readonly HashSet<string> ExpectedWarnings =
    [
        "operation-4xx-response #/paths/~1queues/get/responses",
        "operation-4xx-response #/paths/~1workers/get/responses",
        "operation-4xx-response #/paths/~1nodes/get/responses",
        "operation-4xx-response #/paths/~1dashboard~1snapshot/get/responses",
        "operation-4xx-response #/paths/~1schedules/get/responses",
        "operation-4xx-response #/paths/~1health~1live/get/responses",
        "operation-4xx-response #/paths/~1health~1ready/get/responses",
        "operation-4xx-response #/paths/~1health/get/responses",
    ];

    [Fact]
    public async Task OpenApiDocumentHasNoLintErrorsAndOnlyTheExpectedWarnings()
    {
        var redocly = CiTools.Require("redocly");
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var document = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        var path = Path.Combine(Path.GetTempPath(), $"queueapi-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, document, TestContext.Current.CancellationToken);
        try
        {
            var run = await CiTools.RunAsync(
                redocly,
                ["lint", path, "--config", Path.Combine(CiTools.ToolsDirectory, "redocly.yaml"), "--format", "json"],
                TimeSpan.FromSeconds(60));

            using var json = JsonDocument.Parse(run.Stdout[run.Stdout.IndexOf('{', StringComparison.Ordinal)..]);
            var problems = json.RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => (
                    Severity: p.GetProperty("severity").GetString(),
                    Key: $"{p.GetProperty("ruleId").GetString()} {p.GetProperty("location")[0].GetProperty("pointer").GetString()}",
                    Message: p.GetProperty("message").GetString()))
                .ToList();

            var errors = problems.Where(p => p.Severity == "error").Select(p => $"{p.Key}: {p.Message}").ToList();
            Assert.True(errors.Count == 0, $"redocly lint errors:\n{string.Join('\n', errors)}");
            var unexpected = problems.Where(p => !ExpectedWarnings.Contains(p.Key)).Select(p => $"{p.Severity} {p.Key}: {p.Message}").ToList();
            Assert.True(unexpected.Count == 0, $"New redocly lint warnings (fix the endpoint's metadata):\n{string.Join('\n', unexpected)}");
            Assert.Equal(0, run.ExitCode);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
