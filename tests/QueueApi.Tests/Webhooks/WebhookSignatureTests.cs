using System.Security.Cryptography;
using System.Text;
using QueueApi.Webhooks;

namespace QueueApi.Tests.Webhooks;

/// <summary>The signature header to the byte, and what a receiver's check refuses: a wrong key, body, age or shape.</summary>
public sealed class WebhookSignatureTests
{
    private const string Secret = "s3cret";
    private static readonly byte[] Body = """{"n": 1}"""u8.ToArray();
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private static string Hmac(string message) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(message)));

    [Fact]
    public void TheHeaderIsTheTimestampAndTheHmacOfTheTimestampADotAndTheBody()
    {
        var header = WebhookSignature.Create(Secret, 1_800_000_000, Body);

        Assert.Equal($"t=1800000000,v1={Hmac("1800000000." + """{"n": 1}""")}", header);
        Assert.Equal("QueueApi-Signature", WebhookSignature.HeaderName);
    }

    [Fact]
    public void AnEmptyBodySignsTheTimestampAndTheDotAlone()
    {
        Assert.Equal($"t=7,v1={Hmac("7.")}", WebhookSignature.Create(Secret, 7, []));
    }

    [Fact]
    public void TheReceiversCheckAcceptsAFreshSignatureWithinTheToleranceEitherWay()
    {
        var header = WebhookSignature.Create(Secret, Now.ToUnixTimeSeconds(), Body);

        Assert.True(WebhookSignature.Verify(Secret, header, Body, Now, Tolerance));
        Assert.True(WebhookSignature.Verify(Secret, header, Body, Now + Tolerance, Tolerance));
        Assert.True(WebhookSignature.Verify(Secret, header, Body, Now - Tolerance, Tolerance));
        Assert.True(WebhookSignature.Verify(Secret, $"v1={header.Split(",v1=")[1]},t={Now.ToUnixTimeSeconds()}", Body, Now, Tolerance));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void TheReceiversCheckRefusesASignatureOlderOrNewerThanTheTolerance(int seconds)
    {
        var header = WebhookSignature.Create(Secret, Now.ToUnixTimeSeconds(), Body);

        Assert.False(WebhookSignature.Verify(Secret, header, Body, Now.AddSeconds(seconds), Tolerance));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("t=1800000000")]
    [InlineData("v1=00")]
    [InlineData("t=-1800000000,v1=00")]
    [InlineData("t=soon,v1=00")]
    public void TheReceiversCheckRefusesAHeaderWithoutATimestampOrASignature(string? header)
    {
        Assert.False(WebhookSignature.Verify(Secret, header, Body, Now, Tolerance));
    }

    [Fact]
    public void ANullSecretIsAnError()
    {
        Assert.Throws<ArgumentNullException>(() => WebhookSignature.Create(null!, 1, Body));
        Assert.Throws<ArgumentNullException>(() => WebhookSignature.Verify(null!, "t=1,v1=00", Body, Now, Tolerance));
    }
}
