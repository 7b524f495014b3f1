using System.Diagnostics;
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
        if (!File.Exists("/usr/bin/curl"))
        {
            Assert.Skip("curl is not installed.");
        }

        var readme = await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepositoryRoot(), "README.md"), TestContext.Current.CancellationToken);
        var script = CurlBlock().Match(readme).Groups["script"].Value;
        Assert.Contains("curl", script, StringComparison.Ordinal);
        await using var service = await ServiceProcess.StartAsync();
        script = script.Replace("http://localhost:5080", service.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal);

        var info = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(info)!;
        var output = bash.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = bash.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await bash.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var printed = await output;

        Assert.True(bash.ExitCode == 0, $"the README block failed ({bash.ExitCode}): {await errors}\n{printed}");
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
