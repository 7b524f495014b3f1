using System.Diagnostics;

namespace QueueApi.Tests.Support;

/// <summary>Child processes the tests start: how they are started, and running one to its end within a bound.</summary>
public static class ChildProcess
{
    /// <summary>A process with both output streams redirected, the given arguments, working directory and environment.</summary>
    public static ProcessStartInfo Info(string file, IEnumerable<string> arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory ?? ServiceProcess.RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        return info;
    }

    /// <summary>
    /// Runs the process to its end, bounded by the timeout and the test's token; kills it (and its children)
    /// otherwise. Reads both streams whole (not line by line): JSON output must come back byte for byte.
    /// </summary>
    public static async Task<ToolRun> RunAsync(ProcessStartInfo info, TimeSpan timeout, string? stdoutFile = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}.");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            var output = await stdout;
            return new ToolRun(process.ExitCode, stdoutFile is null ? output : await File.ReadAllTextAsync(stdoutFile, cts.Token), await stderr);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(info.FileName)} did not finish within {timeout}.");
        }
    }
}

/// <summary>How a child process ended and what it printed.</summary>
public sealed record ToolRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
