namespace QueueApi.Engine.Chaos;

/// <summary>The exception a worker throws when fault injection asks it to fail.</summary>
public sealed class InjectedFaultException : Exception
{
    public InjectedFaultException() { }

    public InjectedFaultException(string message) : base(message) { }

    public InjectedFaultException(string message, Exception inner) : base(message, inner) { }
}
