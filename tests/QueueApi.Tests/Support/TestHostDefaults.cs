using System.Runtime.CompilerServices;

namespace QueueApi.Tests.Support;

/// <summary>Settings every host this test assembly starts shares, in process or as a child process.</summary>
internal static class TestHostDefaults
{
    /// <summary>
    /// No configuration file watchers. A host watches appsettings.json (and user secrets in Development) to reload
    /// them, and on Linux each watcher is an inotify instance: 128 per user by default. A test run starts hundreds of
    /// hosts, several at a time, and a mutation run beside it on the same machine once ran out ("the configured user
    /// limit (128) on the number of inotify instances has been reached"), failing 251 tests that had nothing wrong.
    /// No test changes a configuration file while its host runs.
    /// </summary>
    [ModuleInitializer]
    internal static void NoConfigurationWatchers() =>
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
