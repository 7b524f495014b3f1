namespace QueueApi.Dashboard;

internal static class DashboardServiceExtensions
{
    /// <summary>The dashboard's sampler (a hosted service), its snapshot builder, its files and its JSON.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<ThroughputSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<ThroughputSampler>());
        services.AddSingleton<SnapshotBuilder>();
        services.AddSingleton<DashboardAssets>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, DashboardJsonContext.Default));
        return services;
    }
}
