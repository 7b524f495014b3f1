using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using QueueApi.Api;

namespace QueueApi.Tests.Api;

/// <summary>The framework's own error answers get a detail that says what to do; one already written is kept.</summary>
public sealed class ProblemDefaultsTests
{
    private static string? Explain(int status, Exception? exception = null, string? detail = null, string? contentType = null)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "PUT";
        http.Request.Path = "/queues/default/nope";
        http.Request.ContentType = contentType;
        var context = new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Detail = detail },
        };

        ProblemDefaults.Explain(context);
        return context.ProblemDetails.Detail;
    }

    [Theory]
    [InlineData(404, "No route matches PUT /queues/default/nope. See /swagger for the API.")]
    [InlineData(405, "PUT is not allowed on /queues/default/nope. See /swagger for the methods it takes.")]
    [InlineData(415, "The body must be JSON: send the header 'Content-Type: application/json' (got 'none').")]
    [InlineData(413, "The body is larger than the server accepts. Send a smaller body.")]
    [InlineData(400, "The request could not be read. Check the JSON body and the route values against /swagger.")]
    [InlineData(500, "An unexpected error occurred; it was logged with this trace id.")]
    public void EachFrameworkAnswerSaysWhatToDo(int status, string expected)
    {
        Assert.Equal(expected, Explain(status));
    }

    [Fact]
    public void AnUnsupportedTypeNamesTheTypeThatWasSent()
    {
        Assert.Equal("The body must be JSON: send the header 'Content-Type: application/json' (got 'text/plain').", Explain(415, contentType: "text/plain"));
    }

    [Fact]
    public void ABindingFailureKeepsTheFrameworksMessageNamingTheParameterAndPointsAtSwagger()
    {
        var bad = new BadHttpRequestException("Failed to bind parameter \"int limit\" from \"many\".");

        Assert.Equal("Failed to bind parameter \"int limit\" from \"many\". Check the route, query and body values against /swagger.", Explain(400, bad));
    }

    [Fact]
    public void ADetailAlreadyWrittenIsKept()
    {
        Assert.Equal("Queue 'default' is full.", Explain(404, new BadHttpRequestException("ignored"), "Queue 'default' is full."));
    }

    [Fact]
    public void AnotherStatusGetsNoDetail()
    {
        Assert.Null(Explain(418));
    }
}
