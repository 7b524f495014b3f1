using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using QueueApi.Engine.Configuration;

namespace QueueApi.Api;

/// <summary>Settings of the admin key, bound from <c>QueueApi</c>.</summary>
public sealed class AdminKeyOptions
{
    /// <summary>The key that actions which change the service require in <c>X-Api-Key</c> outside Development.</summary>
    public string? AdminApiKey { get; set; }
}

/// <summary>Marks an endpoint as an admin action, for the filter and for the OpenAPI security requirement.</summary>
internal sealed class AdminActionMetadata;

/// <summary>
/// Guards actions that change the service. Open in Development; elsewhere they need <c>X-Api-Key</c>
/// equal to <c>QueueApi:AdminApiKey</c>, compared in constant time.
/// </summary>
internal sealed class AdminKeyFilter(IHostEnvironment env, IOptionsMonitor<AdminKeyOptions> options) : IEndpointFilter
{
    public const string HeaderName = "X-Api-Key";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (env.IsDevelopment())
        {
            return next(context);
        }

        var configured = options.CurrentValue.AdminApiKey;
        if (string.IsNullOrEmpty(configured))
        {
            return ValueTask.FromResult<object?>(Problems.Make(
                StatusCodes.Status403Forbidden,
                "Admin actions are disabled",
                $"No admin key is configured. Set {QueueApiOptions.SectionName}:AdminApiKey (environment variable QueueApi__AdminApiKey) and send it in the {HeaderName} header."));
        }

        var sent = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (string.IsNullOrEmpty(sent))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{HeaderName}\"";
            return ValueTask.FromResult<object?>(Problems.Make(
                StatusCodes.Status401Unauthorized,
                "Admin key required",
                $"This action changes the service: send the admin key in the {HeaderName} header (Swagger UI: Authorize)."));
        }

        if (!Matches(sent, configured))
        {
            return ValueTask.FromResult<object?>(Problems.Make(
                StatusCodes.Status403Forbidden,
                "Wrong admin key",
                $"The {HeaderName} header does not match {QueueApiOptions.SectionName}:AdminApiKey."));
        }

        return next(context);
    }

    private static bool Matches(string sent, string configured)
    {
        // Hash first so the comparison takes the same time whatever the lengths.
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(sent));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(configured));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}

internal static class AdminKeyExtensions
{
    /// <summary>Requires the admin key outside Development and says so in the OpenAPI document.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .AddEndpointFilter<TBuilder, AdminKeyFilter>()
            .WithMetadata(new AdminActionMetadata())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
}
