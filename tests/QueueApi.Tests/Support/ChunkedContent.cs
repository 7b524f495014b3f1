using System.Net;

namespace QueueApi.Tests.Support;

/// <summary>
/// A JSON body of unknown length, written in small pieces, as a chunked upload sends it. Send it with a client
/// made with <c>AllowAutoRedirect = false</c>: the factory's redirect handler buffers bodies and gives them a length.
/// </summary>
public sealed class ChunkedContent : HttpContent
{
    private readonly byte[] _bytes;

    public ChunkedContent(byte[] bytes)
    {
        _bytes = bytes;
        Headers.ContentType = new("application/json");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var i = 0; i < _bytes.Length; i += 16)
        {
            await stream.WriteAsync(_bytes.AsMemory(i, Math.Min(16, _bytes.Length - i)));
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
