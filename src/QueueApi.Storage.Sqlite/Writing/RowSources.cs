namespace QueueApi.Storage.Sqlite.Writing;

/// <summary>Plain messages of one queue for the multi-row inserts, wherever their fields live.</summary>
internal interface IRowSource
{
    int Count { get; }

    string Queue { get; }

    long IdMs(int i);

    uint IdSeq(int i);

    ReadOnlySpan<byte> Payload(int i);

    long EnqueuedAt(int i);
}

/// <summary>Inserts as the intake hands them over (a row per message at once, PackIntake off).</summary>
internal readonly ref struct OpRows(ReadOnlySpan<WriteOp> ops) : IRowSource
{
    private readonly ReadOnlySpan<WriteOp> _ops = ops;

    public int Count => _ops.Length;

    public string Queue => _ops[0].Queue;

    public long IdMs(int i) => _ops[i].IdMs;

    public uint IdSeq(int i) => _ops[i].IdSeq;

    public ReadOnlySpan<byte> Payload(int i) => _ops[i].Payload;

    public long EnqueuedAt(int i) => _ops[i].Time;
}

/// <summary>A packed row's messages, read in place from its blob: no payload is copied out to be written back.</summary>
internal readonly ref struct PackedRows(string queue, ReadOnlySpan<byte> blob, ReadOnlySpan<PackedEntry> entries) : IRowSource
{
    private readonly ReadOnlySpan<byte> _blob = blob;
    private readonly ReadOnlySpan<PackedEntry> _entries = entries;

    public int Count => _entries.Length;

    public string Queue { get; } = queue;

    public long IdMs(int i) => _entries[i].IdMs;

    public uint IdSeq(int i) => _entries[i].IdSeq;

    public ReadOnlySpan<byte> Payload(int i) => _blob.Slice(_entries[i].Offset, _entries[i].Length);

    public long EnqueuedAt(int i) => _entries[i].EnqueuedAt;
}

/// <summary>One message in a packed row's blob: its id, enqueue time, and where its payload lies.</summary>
internal readonly record struct PackedEntry(long IdMs, uint IdSeq, long EnqueuedAt, int Offset, int Length);
