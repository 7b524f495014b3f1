namespace QueueApi.Engine;

/// <summary>Where the engine is in its life.</summary>
public enum EngineState
{
    Created,
    Running,
    Stopping,
    Stopped,
}
