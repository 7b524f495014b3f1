using Microsoft.AspNetCore.Http;

namespace QueueApi.Api;

/// <summary>Gives the framework's own error answers (routing, status code pages) a detail that says what to do.</summary>
internal static class ProblemDefaults
{
    public static void Explain(ProblemDetailsContext context)
    {
        var p = context.ProblemDetails;
        if (p.Detail is not null)
        {
            return;
        }

        if (context.Exception is BadHttpRequestException bad)
        {
            // The framework's message names the parameter and the value ("Failed to bind parameter ... from ...").
            p.Detail = $"{bad.Message} Check the route, query and body values against /swagger.";
            return;
        }

        p.Detail = p.Status switch
        {
            StatusCodes.Status404NotFound => $"No route matches {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}. See /swagger for the API.",
            StatusCodes.Status405MethodNotAllowed => $"{context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}. See /swagger for the methods it takes.",
            StatusCodes.Status415UnsupportedMediaType => $"The body must be JSON: send the header 'Content-Type: application/json' (got '{context.HttpContext.Request.ContentType ?? "none"}').",
            StatusCodes.Status413PayloadTooLarge => "The body is larger than the server accepts. Send a smaller body.",
            StatusCodes.Status400BadRequest => "The request could not be read. Check the JSON body and the route values against /swagger.",
            StatusCodes.Status500InternalServerError => "An unexpected error occurred; it was logged with this trace id.",
            _ => null,
        };
    }
}
