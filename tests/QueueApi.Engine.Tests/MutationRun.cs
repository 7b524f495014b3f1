namespace QueueApi.Engine.Tests;

/// <summary>
/// <c>.ci/mutation</c> sets <c>QUEUEAPI_MUTATION_RUN=1</c>. Code under mutation testing checks which mutant is
/// active at every statement, so a randomised test of a hot data structure runs some fifty times slower there;
/// it then takes a tenth of its steps (still thousands of operations, enough to expose a broken mutant) so that
/// it fits Stryker's time limit instead of running against every mutant in the engine.
/// </summary>
internal static class MutationRun
{
    public static bool Active => Environment.GetEnvironmentVariable("QUEUEAPI_MUTATION_RUN") == "1";

    public static int Steps(int full) => Active ? full / 10 : full;
}
