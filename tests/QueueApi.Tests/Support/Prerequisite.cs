namespace QueueApi.Tests.Support;

/// <summary>
/// The one place a test may decline to run, and why. A missing tool skips the test on a developer's machine
/// (with the reason and the fix in the runner's output), but fails it when <c>CI=true</c>: CI installs every
/// tool through <c>bash .ci/install</c>, so a skip there is a missing install step, not a pass.
/// </summary>
public static class Prerequisite
{
    /// <summary>Set by <c>.ci/mutation</c>: tests that start the service as a process, or a browser, stand aside.</summary>
    public const string MutationRunVariable = "QUEUEAPI_MUTATION_RUN";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool InMutationRun => Environment.GetEnvironmentVariable(MutationRunVariable) == "1";

    /// <summary>Skips the test (fails it under <c>CI=true</c>) because <paramref name="what"/> is missing; <paramref name="fix"/> says how to get it.</summary>
    public static void Missing(string what, string fix)
    {
        var reason = $"{what} is missing: {fix}";
        // A mutation run (.ci/mutation) installs nothing beyond the .NET SDK; there a missing tool is a plain skip.
        if (InCi && !InMutationRun)
        {
            Assert.Fail($"{reason} (CI=true: a tool CI needs was not installed, so this test would have been skipped silently).");
        }

        Skip(reason);
    }

    /// <summary>
    /// In a mutation run, skips a test that runs the service as a child process (or drives a browser against one):
    /// code run in another process cannot be traced to the test that started it, and such tests cost minutes per pass.
    /// </summary>
    public static void NotInMutationRun(string what)
    {
        if (InMutationRun)
        {
            Skip($"not run in mutation testing ({MutationRunVariable}=1): {what}.");
        }
    }

    /// <summary>
    /// Skips with the reason also sent as a diagnostic message: <c>dotnet test</c> prints those at its default
    /// verbosity (xunit.runner.json turns them on), where it lists a skipped test by name only.
    /// </summary>
    private static void Skip(string reason)
    {
        var test = TestContext.Current.Test?.TestDisplayName ?? "a test";
        TestContext.Current.SendDiagnosticMessage($"[SKIP] {test}: {reason}");
        Assert.Skip(reason);
    }
}
