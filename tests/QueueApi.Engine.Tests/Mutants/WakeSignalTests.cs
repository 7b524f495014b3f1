using System.Diagnostics;
using QueueApi.Engine.Workers;

namespace QueueApi.Engine.Tests.Mutants;

/// <summary>A worker's wake signal: one token per wake (not per wait), the replaced one released, and a sleep that lasts.</summary>
public sealed class WakeSignalTests
{
    [Fact]
    public void WithoutAWakeRenewKeepsTheSameToken()
    {
        using var shutdown = new CancellationTokenSource();
        var signal = new WakeSignal(shutdown.Token);

        var first = signal.Renew();
        var second = signal.Renew();

        Assert.Equal(first, second);
        Assert.False(second.IsCancellationRequested);
    }

    [Fact]
    public void AfterAWakeRenewHandsOutAFreshTokenAndReleasesTheOldOne()
    {
        using var shutdown = new CancellationTokenSource();
        var signal = new WakeSignal(shutdown.Token);
        var before = signal.Renew();

        signal.Wake();
        var after = signal.Renew();

        Assert.True(before.IsCancellationRequested);
        Assert.NotEqual(before, after);
        Assert.False(after.IsCancellationRequested);
        // The replaced source was disposed, not left for the finalizer: its wait handle is gone.
        Assert.Throws<ObjectDisposedException>(() => before.WaitHandle);
    }

    [Fact]
    public void AfterShutdownRenewKeepsTheCancelledToken()
    {
        using var shutdown = new CancellationTokenSource();
        var signal = new WakeSignal(shutdown.Token);
        var before = signal.Renew();

        shutdown.Cancel();
        var after = signal.Renew();

        Assert.Equal(before, after);
        Assert.True(after.IsCancellationRequested);
    }

    [Fact]
    public void SleepLastsItsDurationWhenNothingWakesIt()
    {
        using var shutdown = new CancellationTokenSource();
        var signal = new WakeSignal(shutdown.Token);
        var duration = TimeSpan.FromMilliseconds(150);
        var watch = Stopwatch.StartNew();

        signal.Sleep(signal.Renew(), duration, TimeProvider.System);

        // A little slack below the duration: the timer and the wait may round their times down.
        Assert.True(watch.Elapsed >= duration - TimeSpan.FromMilliseconds(20), $"slept only {watch.Elapsed}");
    }
}
