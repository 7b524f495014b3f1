using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using QueueApi.Api;

namespace QueueApi.Extensions;

internal static class OpenApiExtensions
{
    private const string SchemeId = "AdminApiKey";

    /// <summary>The framework's OpenAPI document, with the admin key as a security scheme for Swagger UI's Authorize.</summary>
    public static IServiceCollection AddQueueOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "QueueApi",
                    Version = "v1",
                    Description = "Managed in-process work queues: enqueue messages, watch every worker thread, pause, drain and shut down.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = AdminKeyFilter.HeaderName,
                    Description = "Admin key (QueueApi:AdminApiKey); required outside Development for actions that change the service.",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<AdminActionMetadata>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
                }

                return Task.CompletedTask;
            });
        });
}
