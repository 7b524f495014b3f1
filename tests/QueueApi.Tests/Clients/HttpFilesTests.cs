using System.Text.Json;
using System.Text.RegularExpressions;
using QueueApi.Engine;
using QueueApi.Tests.Support;

namespace QueueApi.Tests.Clients;

/// <summary>
/// The <c>http/*.http</c> files, run by httpyac against the built service. The safe files share one
/// instance; each destructive file (<c>http/destructive/</c>) gets a fresh instance of its own, whose exit
/// code is then checked.
/// </summary>
public sealed partial class HttpFilesTests
{
    private static readonly TimeSpan HttpYacTimeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string, int> DestructiveFiles => new()
    {
        { "shutdown.http", 0 },
        { "crash.http", QueueEngine.ExitCodeWorkerFaulted },
        { "hang.http", QueueEngine.ExitCodeWorkerStuck },
    };

    [Fact]
    public async Task EverySafeHttpFilePassesAgainstOneLiveInstance()
    {
        var httpyac = CiTools.Require("httpyac");
        // features.http runs against a fresh instance of each store below.
        var files = HttpFile.Safe().Where(f => Path.GetFileName(f) != HttpFile.Features).ToList();
        await using var service = await ServiceProcess.StartAsync();

        var run = await SendAsync(httpyac, files, service.BaseAddress);

        AssertEveryRequestPassed(run, files);
        Assert.False(service.HasExited, $"A safe file stopped the service.\n{service.Output}");
        using var ready = await service.Client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Memory")]
    public async Task TheFeaturesHttpFilePassesAgainstAnInstanceOfEachStore(string provider)
    {
        var httpyac = CiTools.Require("httpyac");
        string[] files = [Path.Combine(HttpFile.Directory, HttpFile.Features)];
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string> { ["QueueApi__Storage__Provider"] = provider });

        var run = await SendAsync(httpyac, files, service.BaseAddress);

        AssertEveryRequestPassed(run, files);
    }

    [Theory]
    [MemberData(nameof(DestructiveFiles))]
    public async Task DestructiveHttpFilePassesAgainstItsOwnInstanceWhichThenExitsWithItsCode(string file, int exitCode)
    {
        var httpyac = CiTools.Require("httpyac");
        var path = Path.Combine(HttpFile.Directory, "destructive", file);
        // A hung worker counts as stuck after AttemptTimeout + StuckGrace: shortened so the test takes seconds.
        var environment = new Dictionary<string, string>();
        foreach (var queue in new[] { "default", "demo" })
        {
            environment[$"QueueApi__Queues__{queue}__AttemptTimeout"] = "00:00:01";
            environment[$"QueueApi__Queues__{queue}__StuckGrace"] = "00:00:01";
        }

        await using var service = await ServiceProcess.StartAsync(environment);

        var run = await SendAsync(httpyac, [path], service.BaseAddress);

        AssertEveryRequestPassed(run, [path]);
        Assert.Equal(exitCode, await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task HttpFilesCoverEveryOperationOfTheOpenApiDocumentAndAssertEveryStatus()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken));

        var requests = HttpFile.Safe().Concat(HttpFile.Destructive()).SelectMany(HttpFile.Requests).ToList();
        var missing = new List<string>();
        foreach (var path in doc.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = operation.Name.ToUpperInvariant();
                if (!requests.Any(r => r.Method == method && Matches(path.Name, r.Path)))
                {
                    missing.Add($"{method} {path.Name}");
                }
            }
        }

        // Routes outside the OpenAPI document that the files cover as well.
        foreach (var route in new[] { "/health/live", "/health/ready", "/health", "/metrics", "/openapi/v1.json", "/swagger/index.html" })
        {
            if (!requests.Any(r => r.Method == "GET" && r.Path == route))
            {
                missing.Add($"GET {route}");
            }
        }

        Assert.True(missing.Count == 0, $"No .http request for: {string.Join(", ", missing)}");
        var unasserted = requests.Where(r => !r.AssertsStatus).Select(r => $"{r.File}:{r.Line} {r.Method} {r.Path}").ToList();
        Assert.True(unasserted.Count == 0, $"Requests without a '?? status ==' assertion: {string.Join(", ", unasserted)}");
        Assert.All(HttpFile.Safe().Concat(HttpFile.Destructive()), f => Assert.Contains("@host = ", File.ReadAllText(f), StringComparison.Ordinal));
    }

    private static async Task<ToolRun> SendAsync(string httpyac, IReadOnlyList<string> files, Uri baseAddress)
    {
        var output = Path.Combine(Path.GetTempPath(), $"httpyac-{Guid.NewGuid():N}.json");
        try
        {
            return await CiTools.RunAsync(
                httpyac,
                ["send", .. files, "--all", "--json", "--var", $"host={baseAddress.ToString().TrimEnd('/')}", "--timeout", "15000"],
                HttpYacTimeout,
                stdoutFile: output);
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static void AssertEveryRequestPassed(ToolRun run, IReadOnlyList<string> files)
    {
        Assert.True(run.ExitCode == 0, $"httpyac failed: {run}");
        using var json = JsonDocument.Parse(JsonStart(run.Stdout));
        var summary = json.RootElement.GetProperty("summary");
        var expected = files.Sum(f => HttpFile.Requests(f).Count);
        Assert.True(
            summary.GetProperty("totalRequests").GetInt32() == expected
            && summary.GetProperty("successRequests").GetInt32() == expected
            && summary.GetProperty("failedTests").GetInt32() == 0
            && summary.GetProperty("erroredTests").GetInt32() == 0
            && summary.GetProperty("totalTests").GetInt32() >= expected,
            $"Expected {expected} requests, all passing; summary: {summary}\n{Failures(json.RootElement)}");
    }

    private static string Failures(JsonElement root) => string.Join('\n',
        from r in root.GetProperty("requests").EnumerateArray()
        from t in r.TryGetProperty("testResults", out var tests) ? tests.EnumerateArray() : Enumerable.Empty<JsonElement>()
        where t.GetProperty("status").GetString() != "SUCCESS"
        select $"{Path.GetFileName(r.GetProperty("fileName").GetString())}: {r.GetProperty("name")} -> {t.GetProperty("message")} {(t.TryGetProperty("error", out var e) ? e.ToString() : "")}");

    // Node may print a deprecation notice before the JSON.
    private static string JsonStart(string stdout) => stdout[Math.Max(0, stdout.IndexOf('{', StringComparison.Ordinal))..];

    /// <summary>An OpenAPI path template such as <c>/queues/{queue}</c> matches <c>/queues/default</c>.</summary>
    private static bool Matches(string template, string path)
    {
        var t = template.Trim('/').Split('/');
        var p = path.Trim('/').Split('/');
        return t.Length == p.Length && t.Zip(p).All(x => x.First.StartsWith('{') || x.First == x.Second);
    }

    /// <summary>What the test needs to know of an .http file: its requests and whether they assert a status.</summary>
    private static partial class HttpFile
    {
        public static string Directory => Path.Combine(ServiceProcess.RepositoryRoot(), "http");

        /// <summary>Delayed delivery, cancel, idempotency and priorities: run against an instance of each store.</summary>
        public const string Features = "features.http";

        public static IReadOnlyList<string> Safe() => [.. System.IO.Directory.GetFiles(Directory, "*.http").Order(StringComparer.Ordinal)];

        public static IReadOnlyList<string> Destructive() => [.. System.IO.Directory.GetFiles(Path.Combine(Directory, "destructive"), "*.http").Order(StringComparer.Ordinal)];

        public static IReadOnlyList<Request> Requests(string file)
        {
            var lines = File.ReadAllLines(file);
            var requests = new List<Request>();
            for (var i = 0; i < lines.Length; i++)
            {
                var m = RequestLine().Match(lines[i]);
                if (!m.Success)
                {
                    continue;
                }

                // The region runs to the next "###".
                var end = Array.FindIndex(lines, i + 1, l => l.StartsWith("###", StringComparison.Ordinal));
                var region = lines[(i + 1)..(end < 0 ? lines.Length : end)];
                var path = m.Groups["path"].Value.Split('?')[0];
                path = VariableSegment().Replace(path, "{}");
                requests.Add(new Request(Path.GetFileName(file), i + 1, m.Groups["method"].Value, path, region.Any(l => l.StartsWith("?? status ==", StringComparison.Ordinal))));
            }

            return requests;
        }

        [GeneratedRegex(@"^(?<method>GET|POST|PUT|PATCH|DELETE) \{\{host\}\}(?<path>\S*)")]
        private static partial Regex RequestLine();

        [GeneratedRegex(@"\{\{[^}]+\}\}")]
        private static partial Regex VariableSegment();
    }

    private sealed record Request(string File, int Line, string Method, string Path, bool AssertsStatus);
}
