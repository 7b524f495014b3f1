using Microsoft.AspNetCore.Http.HttpResults;
using QueueApi.Queues;

namespace QueueApi.Tests.Queues;

/// <summary>
/// The enqueue routes' own parameters read to the letter, at their limits: <c>?delay</c>, <c>?notBefore</c>,
/// <c>?priority</c> and <c>Idempotency-Key</c>. The API tests show the answers; these pin the edges.
/// </summary>
public sealed class EnqueueParameterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static string Detail(ProblemHttpResult? problem, string title)
    {
        Assert.NotNull(problem);
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal(title, problem.ProblemDetails.Title);
        return problem.ProblemDetails.Detail!;
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("2.5", 2.5)]
    [InlineData("2592000", 2_592_000)]
    [InlineData("0.000000001", 0.000000001)]
    public void ADelayIsThatManySecondsFromNow(string delay, double seconds)
    {
        Assert.True(DeliveryTime.TryRead(delay, null, Now, out var due, out var problem));
        Assert.Null(problem);
        Assert.Equal(Now + TimeSpan.FromSeconds(seconds), due);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.0")]
    public void ADelayOfZeroMeansNow(string delay)
    {
        Assert.True(DeliveryTime.TryRead(delay, null, Now, out var due, out _));
        Assert.Null(due);
    }

    [Theory]
    [InlineData("2592000.5")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1e3")]
    [InlineData(" 1")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1,5")]
    [InlineData("1234567890")]
    [InlineData("")]
    public void ADelayThatIsNotZeroToThirtyDaysOfSecondsIsRefusedSayingWhatToSend(string delay)
    {
        Assert.False(DeliveryTime.TryRead(delay, null, Now, out var due, out var problem));
        Assert.Null(due);
        Assert.Equal($"delay '{delay}' is not a number of seconds from 0 to 2592000 (30 days), such as delay=90 or delay=2.5.", Detail(problem, "Invalid delivery time"));
    }

    [Fact]
    public void BothDelayAndNotBeforeAreRefused()
    {
        Assert.False(DeliveryTime.TryRead("5", "2026-12-01T10:00:05Z", Now, out var due, out var problem));
        Assert.Null(due);
        Assert.Equal("Send either delay or notBefore, not both.", Detail(problem, "Invalid delivery time"));
    }

    [Fact]
    public void NeitherMeansNow()
    {
        Assert.True(DeliveryTime.TryRead(null, null, Now, out var due, out var problem));
        Assert.Null(due);
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("2026-12-01T10:00:05Z", "2026-12-01T10:00:05Z")]
    [InlineData("2026-12-01t10:00:05z", "2026-12-01T10:00:05Z")]
    [InlineData("2026-12-01 11:00:05+01:00", "2026-12-01T10:00:05Z")]
    [InlineData("2026-12-01T05:00:05.123456789-05:00", "2026-12-01T10:00:05.1234568Z")]
    [InlineData("2026-12-31T10:00:00Z", "2026-12-31T10:00:00Z")]
    public void NotBeforeIsThatTimeInUtc(string notBefore, string expected)
    {
        Assert.True(DeliveryTime.TryRead(null, notBefore, Now, out var due, out var problem));
        Assert.Null(problem);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), due);
        Assert.Equal(TimeSpan.Zero, due!.Value.Offset);
    }

    [Theory]
    [InlineData("2026-12-01T10:00:00Z")]
    [InlineData("2020-01-01T00:00:00Z")]
    public void NotBeforeNowOrPastRunsAtOnce(string notBefore)
    {
        Assert.True(DeliveryTime.TryRead(null, notBefore, Now, out var due, out _));
        Assert.Null(due);
    }

    [Theory]
    [InlineData("2026-12-01T10:00:05")]
    [InlineData("2026-12-01")]
    [InlineData("tomorrow")]
    [InlineData("2026-12-01T10:00:05+0100")]
    [InlineData("2026-13-01T10:00:05Z")]
    [InlineData(" 2026-12-01T10:00:05Z")]
    public void NotBeforeThatIsNotAnRfc3339TimeWithAnOffsetIsRefused(string notBefore)
    {
        Assert.False(DeliveryTime.TryRead(null, notBefore, Now, out var due, out var problem));
        Assert.Null(due);
        Assert.Equal($"notBefore '{notBefore}' is not an RFC 3339 time with an offset, such as notBefore=2026-12-01T09:30:00Z.", Detail(problem, "Invalid delivery time"));
    }

    [Fact]
    public void NotBeforeMoreThanThirtyDaysAheadIsRefusedAndExactlyThirtyIsNot()
    {
        Assert.True(DeliveryTime.TryRead(null, "2026-12-31T10:00:00Z", Now, out _, out _));
        Assert.False(DeliveryTime.TryRead(null, "2026-12-31T10:00:01Z", Now, out var due, out var problem));
        Assert.Null(due);
        Assert.Equal("notBefore '2026-12-31T10:00:01Z' is more than 30 days ahead.", Detail(problem, "Invalid delivery time"));
    }

    [Theory]
    [InlineData(null, 5)]
    [InlineData("0", 0)]
    [InlineData("9", 9)]
    [InlineData("07", 7)]
    public void APriorityIsAnIntegerFromZeroToNineAndFiveWithoutOne(string? raw, int expected)
    {
        Assert.True(PriorityQuery.TryParse(raw, out var priority, out var problem));
        Assert.Null(problem);
        Assert.Equal(expected, priority);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("high")]
    [InlineData("")]
    public void AnyOtherPriorityIsRefusedNamingTheRangeAndTheDefault(string raw)
    {
        Assert.False(PriorityQuery.TryParse(raw, out var priority, out var problem));
        Assert.Equal(5, priority);
        Assert.Equal($"The query parameter priority='{raw}' is not an integer from 0 to 9. Send ?priority=9 for the most urgent, or leave it out for 5.", Detail(problem, "Invalid priority"));
    }

    [Theory]
    [InlineData("k")]
    [InlineData("!")]
    [InlineData("~")]
    [InlineData("550e8400-e29b-41d4-a716-446655440000")]
    public void AKeyIsOneToTwoHundredFiftyFiveVisibleAsciiCharactersWithoutACommma(string key)
    {
        Assert.True(IdempotencyHeader.TryReadOne(key, out var read, out var problem));
        Assert.Null(problem);
        Assert.Equal(key, read);
        Assert.True(IdempotencyHeader.TryReadOne(new string('k', 255), out read, out _));
        Assert.Equal(255, read!.Length);
    }

    [Fact]
    public void NoHeaderMeansNoKey()
    {
        Assert.True(IdempotencyHeader.TryReadOne(null, out var key, out var problem));
        Assert.Null(key);
        Assert.Null(problem);
        Assert.True(IdempotencyHeader.TryReadList(null, 3, out var keys, out problem));
        Assert.Null(keys);
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a,b")]
    [InlineData("caf\u00e9")]
    [InlineData("a\u007f")]
    [InlineData("a\tb")]
    public void AnyOtherKeyIsRefusedSayingWhatAKeyIs(string key)
    {
        Assert.False(IdempotencyHeader.TryReadOne(key, out var read, out var problem));
        Assert.Null(read);
        Assert.Equal($"Idempotency-Key '{key}' is not one key of 1 to 255 visible ASCII characters without commas (a UUID is a good key).", Detail(problem, "Invalid idempotency key"));
    }

    [Fact]
    public void AKeyOfTwoHundredFiftySixCharactersIsRefused()
    {
        Assert.False(IdempotencyHeader.TryReadOne(new string('k', 256), out _, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void ABatchHasOneKeyPerItemInOrderAndAnEmptyEntryIsAnItemWithout()
    {
        Assert.True(IdempotencyHeader.TryReadList("a, ,c", 3, out var keys, out var problem));
        Assert.Null(problem);
        Assert.Equal(new string?[] { "a", null, "c" }.AsEnumerable(), keys!.AsEnumerable());
    }

    [Theory]
    [InlineData("a,b", 3, "got 2 for 3 items")]
    [InlineData("a,b,c,d", 3, "got 4 for 3 items")]
    public void ABatchWithAnotherNumberOfKeysIsRefusedCountingBoth(string header, int items, string counted)
    {
        Assert.False(IdempotencyHeader.TryReadList(header, items, out var keys, out var problem));
        Assert.Null(keys);
        Assert.Equal($"Idempotency-Key on a batch lists one key per item, comma-separated and in order (empty for an item without one): {counted}.", Detail(problem, "Invalid idempotency key"));
    }

    [Fact]
    public void ABatchKeyThatIsNotAKeyIsRefusedNamingItsPlace()
    {
        Assert.False(IdempotencyHeader.TryReadList($"a,b c,{new string('k', 256)}", 3, out _, out var problem));
        Assert.Equal("Idempotency-Key entry 2 'b c' is not a key of 1 to 255 visible ASCII characters.", Detail(problem, "Invalid idempotency key"));
        Assert.False(IdempotencyHeader.TryReadList($"a,b,{new string('k', 256)}", 3, out _, out problem));
        Assert.StartsWith("Idempotency-Key entry 3 ", Detail(problem, "Invalid idempotency key"), StringComparison.Ordinal);
    }
}
