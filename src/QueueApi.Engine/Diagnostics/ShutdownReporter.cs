using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Queues;
using QueueApi.Engine.Supervision;

namespace QueueApi.Engine.Diagnostics;

/// <summary>Builds the shutdown report from the supervisor's record and the queues' books; logs it and writes its file.</summary>
internal sealed partial class ShutdownReporter(Supervisor supervisor, IReadOnlyList<WorkQueue> queues, ShutdownOptions options, TimeProvider time, ILogger logger)
{
    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        TypeInfoResolver = ReportJsonContext.Default,
    };

    public static string ToJson(ShutdownReport report) => JsonSerializer.Serialize(report, ReportJson.GetTypeInfo(typeof(ShutdownReport)));

    public ShutdownReport Build(bool complete, IReadOnlyList<string> abandoned)
    {
        var life = supervisor.Life;
        return new ShutdownReport(
            complete,
            life.Reason,
            life.Mode ?? ShutdownMode.Immediate,
            supervisor.ExitCode,
            life.RequestedAt,
            complete ? time.GetUtcNow() : null,
            supervisor.FirstFailure,
            life.Phases(),
            queues.ToDictionary(q => q.Name, q => q.Counts(), StringComparer.Ordinal),
            abandoned,
            new Dictionary<string, int>(supervisor.Stored, StringComparer.Ordinal));
    }

    public void Write(ShutdownReport report)
    {
        var json = ToJson(report);
        LogReport(logger, report.Reason, report.ExitCode, json);
        if (string.IsNullOrWhiteSpace(options.ReportPath))
        {
            return;
        }

        try
        {
            File.WriteAllText(options.ReportPath, json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogReportWriteFailed(logger, options.ReportPath, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown report ({Reason}, exit code {ExitCode}): {Report}")]
    private static partial void LogReport(ILogger logger, StopReason reason, int exitCode, string report);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the shutdown report to {Path}.")]
    private static partial void LogReportWriteFailed(ILogger logger, string path, Exception ex);
}
