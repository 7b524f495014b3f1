using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;

namespace QueueApi.Tests.Support;

/// <summary>The test hosts keep their configuration files unwatched (see <see cref="TestHostDefaults"/>).</summary>
public sealed class TestHostDefaultsTests
{
    [Fact]
    public async Task ATestHostReadsItsJsonFilesWithoutWatchingThem()
    {
        await using var app = new QueueApiApplication();
        using var client = app.CreateClient();
        var configuration = (IConfigurationRoot)app.Services.GetRequiredService<IConfiguration>();

        var json = configuration.Providers.OfType<JsonConfigurationProvider>().ToList();

        Assert.NotEmpty(json); // appsettings.json at least: otherwise the check below would pass on nothing.
        Assert.All(json, provider => Assert.False(provider.Source.ReloadOnChange, $"{provider.Source.Path} is watched"));
    }
}
