using System.Globalization;

namespace QueueApi.Benchmarks;

/// <summary>Prints figures next to their targets, as a Markdown table that can go straight into the docs.</summary>
internal sealed class ResultTable(string title)
{
    private readonly List<(string Figure, string Value, string Target, bool? Met)> _rows = [];

    public void Add(string figure, string value, string target, bool? met) => _rows.Add((figure, value, target, met));

    public static string F(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The median of the figures (sorts the list).</summary>
    public static double Median(List<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine($"## {title}");
        Console.WriteLine();
        Console.WriteLine("| figure | value | target | met |");
        Console.WriteLine("| --- | ---: | --- | --- |");
        foreach (var (figure, value, target, met) in _rows)
        {
            var verdict = met switch { true => "met", false => "NOT met", null => "(info)" };
            Console.WriteLine($"| {figure} | {value} | {target} | {verdict} |");
        }

        Console.WriteLine();
    }
}
