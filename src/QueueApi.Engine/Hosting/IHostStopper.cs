using Microsoft.Extensions.Hosting;

namespace QueueApi.Engine.Hosting;

/// <summary>Asks the host to stop. A seam, so in-memory tests can keep the host up to look at it after a stop.</summary>
public interface IHostStopper
{
    void StopHost();
}

/// <summary>Stops the host through its application lifetime.</summary>
internal sealed class LifetimeHostStopper(IHostApplicationLifetime lifetime) : IHostStopper
{
    public void StopHost() => lifetime.StopApplication();
}
