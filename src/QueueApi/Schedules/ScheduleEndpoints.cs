using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using QueueApi.Api;
using QueueApi.Engine;
using QueueApi.Engine.Configuration;
using QueueApi.Engine.Messages;
using QueueApi.Engine.Storage;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Schedules;

/// <summary>Recurring schedules: list, show, create or replace, delete and trigger; configured ones are read-only here.</summary>
internal static class ScheduleEndpoints
{
    // A schedule's body is its payload plus a few short fields.
    private const int EnvelopeBytes = 4096;

    public static IEndpointRouteBuilder MapSchedules(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/schedules").WithTags("Schedules");

        group.MapGet("/", List)
            .WithName("ListSchedules")
            .WithSummary("Every schedule, from the API and from configuration, with its next and last run");

        group.MapGet("/{name}", Get)
            .WithName("GetSchedule")
            .WithSummary("One schedule: its definition, source, next run, last run and the id of the last message it enqueued")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/{name}", Put)
            .WithName("PutSchedule")
            .WithSummary("Create or replace a schedule: on each cron occurrence in its time zone, one message goes to its queue")
            .Accepts<ScheduleRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status501NotImplemented)
            .RequireAdminKey();

        group.MapDelete("/{name}", Delete)
            .WithName("DeleteSchedule")
            .WithSummary("Delete a schedule made over the API")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAdminKey();

        group.MapPost("/{name}/trigger", Trigger)
            .WithName("TriggerSchedule")
            .WithSummary("Enqueue one message of the schedule now, outside its cron")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAdminKey();

        return app;
    }

    private static async Task<Ok<IReadOnlyList<ScheduleView>>> List(ScheduleManager schedules, HttpContext http) =>
        TypedResults.Ok<IReadOnlyList<ScheduleView>>([.. (await schedules.ListAsync(http.RequestAborted).ConfigureAwait(false)).Select(ScheduleView.From)]);

    private static async Task<Results<Ok<ScheduleView>, ProblemHttpResult>> Get(string name, ScheduleManager schedules, HttpContext http) =>
        await schedules.GetAsync(name, http.RequestAborted).ConfigureAwait(false) is { } s ? TypedResults.Ok(ScheduleView.From(s)) : Unknown(name);

    private static async Task<Results<Created<ScheduleView>, Ok<ScheduleView>, ProblemHttpResult>> Put(
        string name, HttpContext http, ScheduleManager schedules, QueueEngine engine, IOptions<ApiOptions> options)
    {
        if (schedules.IsConfigured(name))
        {
            return ReadOnly(name);
        }

        var (body, problem) = await JsonBody.ReadAsync(http.Request, options.Value.MaxMessageBytes + EnvelopeBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new List<(string Field, string Error)>();
        var definition = ScheduleBody.Read(name, body!, errors);
        if (definition is null)
        {
            return Invalid(name, errors);
        }

        // A valid schedule asking for what the store cannot keep: 501, after every 400 a client could fix.
        if (definition.Priority != MessagePriority.Default && !engine.Storage.Features.HasFlag(StoreFeatures.Priorities)
            && ScheduleValidator.Validate(definition, engine.Queues.Select(q => q.Name), out _).Count == 0)
        {
            return Problems.NotSupported(engine.Storage.Provider, "Priorities (priority other than 5)", "Leave the schedule's priority out.");
        }

        var (change, stored, invalid) = await schedules.PutAsync(definition, http.RequestAborted).ConfigureAwait(false);
        return change switch
        {
            ScheduleChange.Created => TypedResults.Created($"/schedules/{name}", ScheduleView.From(stored!)),
            ScheduleChange.Replaced => TypedResults.Ok(ScheduleView.From(stored!)),
            ScheduleChange.ReadOnly => ReadOnly(name),
            _ => Invalid(name, invalid),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, ScheduleManager schedules, HttpContext http) =>
        await schedules.DeleteAsync(name, http.RequestAborted).ConfigureAwait(false) switch
        {
            ScheduleChange.Deleted => TypedResults.NoContent(),
            ScheduleChange.ReadOnly => ReadOnly(name),
            _ => Unknown(name),
        };

    private static async Task<Results<AcceptedJson<TriggerResponse>, ProblemHttpResult>> Trigger(
        string name, ScheduleManager schedules, HttpContext http, IOptions<ApiOptions> options)
    {
        var (change, run) = await schedules.TriggerAsync(name, http.RequestAborted).ConfigureAwait(false);
        if (change == ScheduleChange.NotFound)
        {
            return Unknown(name);
        }

        var queue = (await schedules.GetAsync(name, http.RequestAborted).ConfigureAwait(false))?.Definition.Queue ?? "";
        if (run!.MessageId is not { } id)
        {
            http.Response.Headers.RetryAfter = options.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Make(StatusCodes.Status503ServiceUnavailable, "Schedule could not enqueue", $"{run.Error} Retry after {options.Value.RetryAfterSeconds} s; GET /queues/{queue} shows the queue.");
        }

        return new AcceptedJson<TriggerResponse>($"/queues/{queue}/messages/{id}", new TriggerResponse(name, queue, id));
    }

    private static ProblemHttpResult Unknown(string name) => Problems.Make(
        StatusCodes.Status404NotFound,
        "Unknown schedule",
        $"There is no schedule named '{name}'. GET /schedules lists them; PUT /schedules/{name} creates it.");

    private static ProblemHttpResult ReadOnly(string name) => Problems.Make(
        StatusCodes.Status409Conflict,
        "Schedule is read-only",
        $"Schedule '{name}' is declared in configuration ({QueueApiOptions.SectionName}:Schedules:{name}) and cannot be changed over the API; change it there and restart, or use another name.");

    private static ProblemHttpResult Invalid(string name, IEnumerable<(string Field, string Error)> errors) => Problems.Make(
        StatusCodes.Status400BadRequest,
        "Invalid schedule",
        $"Schedule '{name}' was not saved. Fix and PUT again: {string.Join(" ", errors.Select(e => $"{e.Field}: {e.Error}"))} For example: {ScheduleBody.Example}");
}
