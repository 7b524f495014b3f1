using QueueApi.Engine.Messages;
using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Configuration;

/// <summary>A recurring schedule declared under <c>QueueApi:Schedules:{name}</c>; checked at start-up like one PUT over the API.</summary>
public sealed class ScheduleOptions
{
    public string Queue { get; set; } = "";

    /// <summary>Five fields, six with seconds first, or a macro such as <c>@daily</c>.</summary>
    public string Cron { get; set; } = "";

    /// <summary>An IANA time zone; UTC unless set.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>The message body as JSON text; <c>{}</c> unless set.</summary>
    public string Payload { get; set; } = "{}";

    public bool Enabled { get; set; } = true;

    public MisfirePolicy Misfire { get; set; } = MisfirePolicy.RunOnce;

    public int Priority { get; set; } = MessagePriority.Default;

    public ScheduleDefinition ToDefinition(string name) =>
        new(name, Queue, Cron, TimeZone, System.Text.Encoding.UTF8.GetBytes(Payload ?? ""), Enabled, Misfire, Priority, ScheduleSource.Configuration);
}

/// <summary>Settings of the scheduler that runs the recurring schedules.</summary>
public sealed class SchedulerOptions
{
    /// <summary>
    /// How late an occurrence may be seen and still count as on time; an older one was missed (the service was down)
    /// and follows the schedule's Misfire policy.
    /// </summary>
    public TimeSpan MisfireGrace { get; set; } = TimeSpan.FromMinutes(1);
}
