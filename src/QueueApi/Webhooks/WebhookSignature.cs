using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace QueueApi.Webhooks;

/// <summary>
/// The <c>QueueApi-Signature</c> header, shaped like Stripe's: <c>t=UNIX_SECONDS,v1=HEX</c>, where HEX is the
/// HMAC-SHA256, keyed with the queue's secret, of the timestamp, a dot and the exact body bytes. The timestamp is
/// signed too, so a receiver that rejects old timestamps also rejects a replayed request.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "QueueApi-Signature";

    public static string Create(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var timestamp = unixSeconds.ToString(CultureInfo.InvariantCulture);
        return $"t={timestamp},v1={Convert.ToHexStringLower(Mac(secret, timestamp, body))}";
    }

    /// <summary>What a receiver does: parse the header, recompute, compare in constant time, check the age.</summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(secret);
        string? timestamp = null;
        string? v1 = null;
        foreach (var part in (header ?? "").Split(','))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                timestamp = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                v1 = part[3..];
            }
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var t) || v1 is null
            || (now - DateTimeOffset.FromUnixTimeSeconds(t)).Duration() > tolerance)
        {
            return false;
        }

        var expected = Convert.ToHexStringLower(Mac(secret, timestamp!, body));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
    }

    private static byte[] Mac(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp, signed);
        signed[timestamp.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(timestamp.Length + 1));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }
}
