using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>The pinned real clients that <c>bash .ci/install</c> puts in <c>.ci/tools/node_modules</c>.</summary>
public static class CiTools
{
    public static string ToolsDirectory => Path.Combine(ServiceProcess.RepositoryRoot(), ".ci", "tools");

    /// <summary>
    /// The tool's path; when it is not installed, skips the test (so a machine with only the .NET SDK still passes)
    /// or, under <c>CI=true</c>, fails it (<see cref="Prerequisite.Missing"/>).
    /// </summary>
    public static string Require(string name)
    {
        var path = Path.Combine(ToolsDirectory, "node_modules", ".bin", name);
        if (!File.Exists(path))
        {
            Prerequisite.Missing(name, "run bash .ci/install (it puts the pinned npm tools in .ci/tools/node_modules)");
        }

        return path;
    }

    /// <summary>
    /// Runs a tool to its end, bounded by the timeout and the test's token; kills it otherwise.
    /// With <paramref name="stdoutFile"/>, standard output goes to that file through the shell: Node
    /// truncates big output written to a pipe when a CLI calls <c>process.exit</c>, but not to a file.
    /// </summary>
    public static Task<ToolRun> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, string? stdoutFile = null)
    {
        var shell = stdoutFile is null ? [] : new[] { "-c", "exec \"$0\" \"$@\" > \"$TOOL_STDOUT\"", file };
        var info = ChildProcess.Info(stdoutFile is null ? file : "/bin/sh", shell.Concat(arguments));
        if (stdoutFile is not null)
        {
            info.Environment["TOOL_STDOUT"] = stdoutFile;
        }

        // Offline and quiet: no telemetry, no update checks, no browser downloads.
        info.Environment["REDOCLY_TELEMETRY"] = "off";
        info.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        info.Environment["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";
        info.Environment["NO_COLOR"] = "1";
        return ChildProcess.RunAsync(info, timeout, stdoutFile);
    }
}
