using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace QueueApi.Storage.Postgres.Tests.Support;

/// <summary>
/// The PostgreSQL the tests use. With <c>QUEUEAPI_TEST_POSTGRES</c> set (<c>.ci/run</c> starts a cluster and sets
/// it), that one; otherwise a throwaway cluster of its own, the way <c>.ci/postgres</c> does it: Debian's binaries
/// under /usr/lib/postgresql/*/bin, initdb into a temporary folder (as the <c>postgres</c> user when root, since
/// PostgreSQL refuses root), pg_ctl on a free loopback port; stopped and removed at the end of the run. Only when
/// no PostgreSQL can be started do the tests that need it skip, saying why.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly bool _owned;
    private readonly string? _dir;
    private readonly string? _bin;
    private readonly int _port;

    public PostgresCluster()
        : this(privateCluster: false)
    {
    }

    private PostgresCluster(bool privateCluster)
    {
        var given = privateCluster ? null : Environment.GetEnvironmentVariable("QUEUEAPI_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(given))
        {
            ConnectionString = given.Trim('\'', '"');
            _dir = Environment.GetEnvironmentVariable("QUEUEAPI_TEST_POSTGRES_DIR")?.Trim('\'', '"');
            _bin = Environment.GetEnvironmentVariable("QUEUEAPI_TEST_POSTGRES_BIN")?.Trim('\'', '"');
            _port = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString).Port;
            return;
        }

        try
        {
            _bin = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                    .Where(b => File.Exists(Path.Combine(b, "pg_ctl"))).OrderBy(b => b, StringComparer.Ordinal).LastOrDefault()
                : null;
            if (_bin is null)
            {
                Unavailable = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): run bash .ci/install, or set QUEUEAPI_TEST_POSTGRES.";
                return;
            }

            if (!OperatingSystem.IsLinux())
            {
                Unavailable = "a throwaway PostgreSQL cluster is started on Linux only: set QUEUEAPI_TEST_POSTGRES to a server.";
                return;
            }

            _dir = Directory.CreateTempSubdirectory("queueapi-pg.").FullName;
            File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
            _owned = true;
            if (IsRoot)
            {
                Run("chown", "postgres:", _dir);
            }

            RunAsOwner(Path.Combine(_bin, "initdb"), "-D", Data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8");
            _port = FreePort();
            Start();
            RunAsOwner(Path.Combine(_bin, "createdb"), "-h", "127.0.0.1", "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "queueapi_test");
            ConnectionString = $"Host=127.0.0.1;Port={_port};Username=postgres;Database=queueapi_test";
        }
#pragma warning disable CA1031 // Any failure to start a cluster becomes the skip reason of the tests that need it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Unavailable = $"PostgreSQL could not be started here ({ex.Message}); set QUEUEAPI_TEST_POSTGRES to a server.";
        }
    }

    /// <summary>Always a cluster of its own: a test that stops and starts the server must not disturb the others.</summary>
    public static PostgresCluster StartPrivate() => new(privateCluster: true);

    public string ConnectionString { get; } = "";

    /// <summary>Why there is no PostgreSQL, or null when there is one.</summary>
    public string? Unavailable { get; }

    /// <summary>Whether the tests may stop and start the server (a cluster in a folder we know).</summary>
    public bool CanRestart => _bin is not null && _dir is not null && Directory.Exists(Data);

    private string Data => Path.Combine(_dir!, "data");

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Skips the calling test, saying why, when no PostgreSQL is available; fails it under <c>CI=true</c>, where
    /// <c>.ci/run</c> starts one (no silent skips).
    /// </summary>
    public void RequireServer()
    {
        if (Unavailable is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            && Environment.GetEnvironmentVariable("QUEUEAPI_MUTATION_RUN") != "1")
        {
            Assert.Fail($"{Unavailable} (CI=true: .ci/run starts PostgreSQL, so this test would have been skipped silently).");
        }

        TestContext.Current.SendDiagnosticMessage($"[SKIP] {TestContext.Current.Test?.TestDisplayName}: {Unavailable}");
        Assert.Skip(Unavailable);
    }

    /// <summary>A connection string whose store uses a schema of its own: each test its own tables.</summary>
    public static string NewSchema() => $"t_{Guid.NewGuid():N}"[..20];

    /// <summary>Stops the server at once (as a crash of the database would look to its clients).</summary>
    public void Stop() => RunAsOwner(Path.Combine(_bin!, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "-t", "30", "stop");

    public void Start() => RunAsOwner(
        Path.Combine(_bin!, "pg_ctl"), "-D", Data, "-l", Path.Combine(_dir!, "server.log"), "-w", "-t", "30",
        "-o", $"-c listen_addresses=127.0.0.1 -p {_port} -k {_dir} -c fsync=off -c max_connections=300", "start");

    public ValueTask DisposeAsync()
    {
        if (_owned && _dir is not null)
        {
            try
            {
                if (Directory.Exists(Data))
                {
                    Stop();
                }
            }
            finally
            {
                Directory.Delete(_dir, recursive: true);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void RunAsOwner(string file, params string[] args)
    {
        if (IsRoot)
        {
            Run("runuser", ["-u", "postgres", "--", file, .. args]);
        }
        else
        {
            Run(file, args);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(CommandTimeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {CommandTimeout}");
        }

        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {p.ExitCode}: {stderr.Result}{stdout.Result}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
