namespace QueueApi.Dashboard;

/// <summary>
/// The hook for a shared store (PostgreSQL): register one and the dashboard lists the replicas it reports.
/// Without one the snapshot's <c>replicas</c> is null and the page hides the section.
/// </summary>
public interface IReplicaSource
{
    /// <summary>The instances sharing the store, as last seen; called once per snapshot, so keep it cheap (cached).</summary>
    IReadOnlyList<ReplicaView> Replicas();
}
