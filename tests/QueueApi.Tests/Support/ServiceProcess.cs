using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace QueueApi.Tests.Support;

/// <summary>
/// The built service as a real child process on a free loopback port. It is killed when disposed,
/// so no test leaves it running.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string? _ownFolder;

    private ServiceProcess(Process process, int port, string? ownFolder)
    {
        _process = process;
        _ownFolder = ownFolder;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Starts the service and waits until <c>/health/ready</c> answers 200 (unless told not to). Its database file goes
    /// in <paramref name="dataFolder"/> (a restart on the same file passes the same one), or in a temporary folder of
    /// its own, deleted with it.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(
        IDictionary<string, string>? environment = null, string aspnetEnvironment = "Development", string? dataFolder = null, bool waitUntilReady = true)
    {
        Prerequisite.NotInMutationRun("starts the built service as a child process");
        var port = FreePort();
        var ownFolder = dataFolder is null ? Directory.CreateTempSubdirectory("queueapi-service-").FullName : null;
        var dll = ServiceDll();
        var info = ChildProcess.Info("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"], Path.GetDirectoryName(dll)!);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = aspnetEnvironment;
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["QueueApi__Storage__Path"] = Path.Combine(dataFolder ?? ownFolder!, "queueapi.db");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the service.");
        var service = new ServiceProcess(process, port, ownFolder);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { service._output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { service._output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitUntilReady)
        {
            await service.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        }

        return service;
    }

    /// <summary>
    /// Runs the service for a start that is expected to fail: returns its exit code and everything it printed
    /// (standard output and error together), or fails after the timeout.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(string url, IDictionary<string, string>? environment, TimeSpan timeout)
    {
        Prerequisite.NotInMutationRun("starts the built service as a child process");
        var dll = ServiceDll();
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        env.TryAdd("Logging__Console__FormatterName", "simple");
        var data = Directory.CreateTempSubdirectory("queueapi-failing-").FullName;
        env.TryAdd("QueueApi__Storage__Path", Path.Combine(data, "queueapi.db"));
        try
        {
            var run = await ChildProcess.RunAsync(ChildProcess.Info("dotnet", [dll, "--urls", url], Path.GetDirectoryName(dll)!, env), timeout);
            return (run.ExitCode, $"{run.Stdout}\n{run.Stderr}");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Sends SIGKILL: no shutdown, no flush, as an OOM kill or a node loss.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
    }

    /// <summary>Sends SIGTERM, as Kubernetes or Ctrl+C would.</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>Sends a signal by name: KILL (a crash, an OOM kill), STOP and CONT (a replica frozen, then back).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit(5_000);
    }

    /// <summary>Waits for the process to end; returns its exit code, or fails after the timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The service did not exit within {timeout}. Output:\n{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }

        _process.Dispose();
        if (_ownFolder is not null)
        {
            Directory.Delete(_ownFolder, recursive: true);
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {_process.ExitCode} before it was ready. Output:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet: the wait below is the retry interval of a start-up probe.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The service was not ready within {timeout}. Output:\n{Output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The service built beside the tests, in the same configuration.</summary>
    public static string ServiceDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "QueueApi.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException("Could not find QueueApi.sln above the test directory.");
        }

#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var dll = Path.Combine(dir.FullName, "src", "QueueApi", "bin", configuration, "net10.0", "QueueApi.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the service first: {dll} is missing.", dll);
    }

    public static string RepositoryRoot() => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ServiceDll())!, "..", "..", "..", "..", ".."));
}

/// <summary>Waiting for a condition with a timeout, instead of sleeping and hoping.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        T last = await probe();
        while (!done(last))
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last value: {last}");
            }

            // A short interval between probes of an HTTP API; the bound is the timeout above.
            await Task.Delay(20);
            last = await probe();
        }

        return last;
    }

    public static Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitAsync(() => Task.FromResult(condition()), x => x, timeout, what);
}
