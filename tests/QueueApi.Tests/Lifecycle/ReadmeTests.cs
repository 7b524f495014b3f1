using System.Text.RegularExpressions;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Lifecycle;

/// <summary>The README's curl examples, run as printed (only the port changes) against a live instance.</summary>
public sealed partial class ReadmeTests
{
    [GeneratedRegex("## Try it with curl.*?```bash\\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CurlBlock();

    [Fact]
    public async Task ReadmeCurlExamplesWorkAsPrinted()
    {
        Prerequisite.NotInMutationRun("runs the README's curl block against the service as a child process");
        if (!File.Exists("/usr/bin/curl"))
        {
            Prerequisite.Missing("/usr/bin/curl", "install curl (Debian: apt-get install curl)");
        }

        var readme = await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepositoryRoot(), "README.md"), TestContext.Current.CancellationToken);
        var script = CurlBlock().Match(readme).Groups["script"].Value;
        Assert.Contains("curl", script, StringComparison.Ordinal);
        await using var service = await ServiceProcess.StartAsync();
        script = script.Replace("http://localhost:5080", service.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal);

        var bash = await ChildProcess.RunAsync(ChildProcess.Info("bash", ["-euo", "pipefail", "-c", script]), TimeSpan.FromSeconds(60));
        var printed = bash.Stdout;

        Assert.True(bash.ExitCode == 0, $"the README block failed ({bash.ExitCode}): {bash.Stderr}\n{printed}");
        Assert.Contains("HTTP/1.1 202 Accepted", printed, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"processing\"", printed, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"deadLettered\"", printed, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 204 No Content", printed, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 415 Unsupported Media Type", printed, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 400 Bad Request", printed, StringComparison.Ordinal);
        Assert.Contains("\"title\":\"Malformed JSON\"", printed, StringComparison.Ordinal);
        Assert.Contains("\"title\":\"Invalid shutdown request\"", printed, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 404 Not Found", printed, StringComparison.Ordinal);
        Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }
}
