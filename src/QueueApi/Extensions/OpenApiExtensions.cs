using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using QueueApi.Api;

namespace QueueApi.Extensions;

internal static class OpenApiExtensions
{
    private const string SchemeId = "AdminApiKey";

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Queues"] = "Enqueue messages, read their status, pause and resume queues, manage dead letters.",
        ["Workers"] = "The live view of every worker thread, and fault injection when chaos is on.",
        ["Shutdown"] = "Stop the worker pool and the host, and read the account of the stop.",
        ["Dashboard"] = "The live dashboard's data: a snapshot of every queue and worker, and the same as a server-sent event stream.",
        ["Nodes"] = "The replicas sharing the queues (PostgreSQL store): heartbeats, alive or not, workers.",
        ["Health"] = "Probes for Kubernetes (liveness, readiness) and the full health report.",
        ["Schedules"] = "Recurring schedules: cron in a time zone enqueues one message per occurrence; from the API or from configuration (read-only).",
    };

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

                // Open by default (an empty requirement means "no credentials"); admin actions name the key below.
                document.Security = [new OpenApiSecurityRequirement()];

                // Relative to wherever the document was loaded from, instead of the framework's copy of the
                // request's base address: right behind a gateway or ingress, and without a trailing slash.
                document.Servers = [new OpenApiServer { Url = "/", Description = "This instance" }];

                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    tag.Description ??= TagDescriptions.GetValueOrDefault(tag.Name ?? "");
                }

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
            o.AddOperationTransformer(OpenApiExamples.Apply);
            o.AddOperationTransformer(Schedules.ScheduleOpenApi.Apply);
        });
}
