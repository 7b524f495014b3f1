using QueueApi.Engine.Scheduling;

namespace QueueApi.Engine.Tests.Scheduling;

/// <summary>What a schedule must be, field by field, and the words each refusal uses.</summary>
public sealed class ScheduleValidationTests
{
    private static readonly string[] Queues = ["orders", "mail"];

    private static ScheduleDefinition Valid() => new("nightly.report_1", "orders", "0 7 * * *", "UTC", "{}"u8.ToArray());

    private static IReadOnlyList<(string Field, string Error)> Errors(ScheduleDefinition definition) =>
        ScheduleValidator.Validate(definition, Queues, out _);

    [Fact]
    public void AValidScheduleHasNoErrorsAndItsCron()
    {
        Assert.Empty(ScheduleValidator.Validate(Valid(), Queues, out var cron));
        Assert.NotNull(cron);
        Assert.Equal("UTC", cron.Zone.Id);
        var from = new DateTimeOffset(2026, 1, 1, 7, 0, 0, TimeSpan.Zero);
        Assert.Equal(from.AddDays(1), cron.Next(from)); // strictly after
    }

    [Theory]
    [InlineData("")]
    [InlineData("-starts-with-a-dash")]
    [InlineData("has space")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012")]
    public void ABadNameIsRefusedWithTheRule(string name)
    {
        var error = Assert.Single(Errors(Valid() with { Name = name }));
        Assert.Equal(("name", $"'{name}' is not a schedule name; use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit."), error);
    }

    [Fact]
    public void AMissingQueueListsTheConfiguredOnes()
    {
        Assert.Equal([("queue", "is required; configured queues: orders, mail.")], Errors(Valid() with { Queue = " " }));
        Assert.Equal([("queue", "there is no queue named 'Orders'; configured queues: orders, mail.")], Errors(Valid() with { Queue = "Orders" }));
    }

    [Fact]
    public void AMissingCronOrTimeZoneIsRequired()
    {
        Assert.Equal(
            [("cron", "is required: five fields (minute hour day month weekday), six with seconds first, or a macro such as @hourly.")],
            Errors(Valid() with { Cron = "  " }));
        Assert.Equal(
            [("timeZone", "is required: an IANA time zone such as UTC or Europe/Berlin.")],
            Errors(Valid() with { TimeZone = "" }));
    }

    [Theory]
    [InlineData("@daily")]
    [InlineData("*/10 * * * * *")]
    [InlineData(" 0 7 * * * ")]
    public void MacrosSixFieldsAndSurroundingSpacesAreAccepted(string cron)
    {
        Assert.Empty(Errors(Valid() with { Cron = cron }));
    }

    [Fact]
    public void SixFieldsCountSecondsAndFiveDoNot()
    {
        ScheduleValidator.Validate(Valid() with { Cron = "30 * * * * *" }, Queues, out var seconds);
        ScheduleValidator.Validate(Valid() with { Cron = "30 * * * *" }, Queues, out var minutes);
        var from = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(from.AddSeconds(30), seconds!.Next(from));
        Assert.Equal(from.AddMinutes(30), minutes!.Next(from));
    }

    [Fact]
    public void AWrongFieldCountIsCountedAndAnUnknownMacroIsNotACronExpression()
    {
        Assert.Equal(
            [("cron", "'* * * * * * *' has 7 fields; use five (minute hour day month weekday) or six with seconds first.")],
            Errors(Valid() with { Cron = "* * * * * * *" }));
        var (field, error) = Assert.Single(Errors(Valid() with { Cron = "@sometimes" }));
        Assert.Equal("cron", field);
        Assert.StartsWith("'@sometimes' is not a valid cron expression: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyPayloadIsNotJson()
    {
        var error = Assert.Single(Errors(Valid() with { Payload = [] }));
        Assert.Equal("payload", error.Field);
        Assert.StartsWith("is not a JSON value", error.Error, StringComparison.Ordinal);
        Assert.Empty(Errors(Valid() with { Payload = "42"u8.ToArray() }));
    }

    [Fact]
    public void EveryWrongFieldIsReportedAtOnce()
    {
        var errors = Errors(new ScheduleDefinition("", "nope", "x", "Mars/Olympus", "{"u8.ToArray(), Priority: -1));
        Assert.Equal(["name", "queue", "cron", "timeZone", "payload", "priority"], errors.Select(e => e.Field));
        Assert.Equal("-1 is not from 0 to 9.", errors[^1].Error);
    }

    [Fact]
    public void OnlyTheCronAndTimeZoneMakeTheTiming()
    {
        var a = Valid();
        Assert.True(a.SameTimingAs(a with { Payload = "[]"u8.ToArray(), Queue = "mail", Priority = 1 }));
        Assert.False(a.SameTimingAs(a with { Cron = "0 8 * * *" }));
        Assert.False(a.SameTimingAs(a with { TimeZone = "Europe/Berlin" }));
    }
}
