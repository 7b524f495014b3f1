using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace QueueApi.Comparisons;

/// <summary>
/// graphile-worker through graphile/bench.mjs, one node process per measurement (its start-up and schema
/// migration are outside the timing, which the script takes itself). Concurrency 10, as Hangfire's default on
/// 2 cores; <paramref name="config"/> is <c>default</c> or <c>batched</c> (its local queue and batched completions).
/// </summary>
internal sealed class GraphileSide(string name, string connectionString, string config) : ISide
{
    private const int Concurrency = 10;

    public string Name => name;

    public double Enqueue(int n) => Run("enqueue", n);

    /// <summary>addJobs with 100 specs per call.</summary>
    public double? EnqueueBatches(int n) => Run("batch", n);

    public double EndToEnd(int n) => Run("e2e", n);

    /// <summary>Where bench.mjs and its node_modules are: beside the sources, found from the build output.</summary>
    public static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "graphile");
            if (File.Exists(Path.Combine(candidate, "bench.mjs")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("graphile/bench.mjs not found above " + AppContext.BaseDirectory);
    }

    private double Run(string mode, int n)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var url = $"postgres://{Uri.EscapeDataString(b.Username ?? "postgres")}@{b.Host}:{b.Port}/{Uri.EscapeDataString(b.Database ?? "postgres")}";
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Folder(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "bench.mjs", url, mode, n.ToString(CultureInfo.InvariantCulture), Producers.Count.ToString(CultureInfo.InvariantCulture), Concurrency.ToString(CultureInfo.InvariantCulture), config })
        {
            start.ArgumentList.Add(arg);
        }

        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        if (!node.WaitForExit(TimeSpan.FromMinutes(11)))
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"graphile-worker's {mode} run did not finish.");
        }

        if (node.ExitCode != 0)
        {
            throw new InvalidOperationException($"graphile-worker's {mode} run failed ({node.ExitCode}): {errors.Result}");
        }

        using var json = JsonDocument.Parse(output.Result.Trim().Split('\n')[^1]);
        return json.RootElement.GetProperty("perSecond").GetDouble();
    }
}
