using System.Globalization;

namespace QueueApi.Comparisons;

/// <summary>
/// Interleaved rounds: in each round every side runs each measurement once, the order rotating from round to
/// round so a change in the machine's load falls on all of them alike. Ratios are taken within a round (the
/// reference side against each other side, measured minutes apart at most), then their median is reported.
/// </summary>
internal sealed class Comparison(string title, IReadOnlyList<ISide> sides, int rounds, int n)
{
    private static readonly string[] Figures = ["enqueue", "enqueue, batches of 100", "end to end"];
    private readonly Dictionary<(string Side, string Figure), Dictionary<int, double>> _values = [];
    private readonly List<string> _failures = [];
    private readonly List<string> _loads = [];

    public void Run()
    {
        Console.WriteLine($"# {title}: {n:N0} no-op jobs, {Producers.Count} concurrent callers, {rounds} rounds (load {Load()})");
        foreach (var side in sides)
        {
            // Warm-up (JIT, pools, plans, node's module cache), not counted.
            Measure(side, Math.Max(100, n / 10));
        }

        for (var r = 0; r < rounds; r++)
        {
            _loads.Add(Load());
            var order = sides.Skip(r % sides.Count).Concat(sides.Take(r % sides.Count)).ToList();
            foreach (var side in order)
            {
                double enqueue, endToEnd;
                double? batches;
                try
                {
                    (enqueue, batches, endToEnd) = Measure(side, n);
                }
#pragma warning disable CA1031 // A side that stalls loses its round, not the whole run: it is reported, not hidden.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _failures.Add($"round {r + 1}, {side.Name}: {ex.Message}");
                    Console.WriteLine($"round {r + 1} {side.Name}: FAILED: {ex.Message} (load {Load()})");
                    continue;
                }

                Add(side, r, Figures[0], enqueue);
                if (batches is { } b)
                {
                    Add(side, r, Figures[1], b);
                }

                Add(side, r, Figures[2], endToEnd);
                Console.WriteLine($"round {r + 1} {side.Name}: enqueue {enqueue:N0}/s, batches {(batches is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) : "-")}/s, end to end {endToEnd:N0}/s (load {Load()})");
            }
        }

        _loads.Add(Load());
        Print();
    }

    private static (double Enqueue, double? Batches, double EndToEnd) Measure(ISide side, int count) =>
        (side.Enqueue(count), side.EnqueueBatches(count), side.EndToEnd(count));

    private void Add(ISide side, int round, string figure, double value)
    {
        if (!_values.TryGetValue((side.Name, figure), out var byRound))
        {
            _values[(side.Name, figure)] = byRound = [];
        }

        byRound[round] = value;
    }

    private void Print()
    {
        var reference = sides[0];
        Console.WriteLine();
        Console.WriteLine($"## {title}");
        Console.WriteLine();
        Console.WriteLine($"{n:N0} no-op jobs per measurement, {Producers.Count} concurrent callers, medians of {rounds} interleaved rounds; " +
            $"1-minute load average at the start of each round and at the end: {string.Join(", ", _loads)} on {Environment.ProcessorCount} cores.");
        Console.WriteLine();
        Console.WriteLine($"| system | {string.Join(" | ", Figures.Select(f => f + ", jobs/s"))} |");
        Console.WriteLine($"| --- |{string.Concat(Figures.Select(_ => " ---: |"))}");
        foreach (var side in sides)
        {
            var cells = Figures.Select(f => _values.TryGetValue((side.Name, f), out var v) ? Median([.. v.Values]).ToString("N0", CultureInfo.InvariantCulture) : "n/a");
            Console.WriteLine($"| {side.Name} | {string.Join(" | ", cells)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"| {reference.Name} against | {string.Join(" | ", Figures)} |");
        Console.WriteLine($"| --- |{string.Concat(Figures.Select(_ => " ---: |"))}");
        foreach (var side in sides.Skip(1))
        {
            var cells = Figures.Select(f => Ratio(reference, side, f));
            Console.WriteLine($"| {side.Name} | {string.Join(" | ", cells)} |");
        }

        foreach (var failure in _failures)
        {
            Console.WriteLine($"Failed, left out of the medians: {failure}");
        }

        Console.WriteLine();
    }

    /// <summary>The median of the per-round ratios (reference / other), each from one round.</summary>
    private string Ratio(ISide reference, ISide other, string figure)
    {
        if (!_values.TryGetValue((reference.Name, figure), out var mine) || !_values.TryGetValue((other.Name, figure), out var theirs))
        {
            return "n/a";
        }

        // Only rounds in which both sides have the figure.
        var ratios = mine.Where(m => theirs.ContainsKey(m.Key)).Select(m => m.Value / theirs[m.Key]).ToList();
        return Median(ratios).ToString("0.0", CultureInfo.InvariantCulture) + "x";
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        var n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
