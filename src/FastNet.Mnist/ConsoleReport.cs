using System.Text;
using FastNet.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastNet.Mnist;

/// <summary>The demo's tables and pictures, rendered with Spectre.Console.</summary>
internal static class ConsoleReport
{
    /// <summary>One row per epoch: losses, accuracies, throughput, time.</summary>
    public static Table Epochs(IReadOnlyList<EpochReport> epochs)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Training");
        table.AddColumn("epoch", c => c.RightAligned());
        table.AddColumn("train loss", c => c.RightAligned());
        table.AddColumn("train acc.", c => c.RightAligned());
        table.AddColumn("test loss", c => c.RightAligned());
        table.AddColumn("test acc.", c => c.RightAligned());
        table.AddColumn("samples/s", c => c.RightAligned());
        table.AddColumn("time", c => c.RightAligned());
        foreach (EpochReport e in epochs)
        {
            table.AddRow(e.Epoch.ToString(), e.TrainLoss.ToString("F4"), Percent(e.TrainAccuracy), e.ValidationLoss.ToString("F4"),
                Percent(e.ValidationAccuracy), e.SamplesPerSecond.ToString("N0"), $"{e.Elapsed.TotalSeconds:F2} s");
        }

        return table;
    }

    /// <summary>Counts of (true class, predicted class); the diagonal is right.</summary>
    public static IRenderable Confusion(int[,] counts, IReadOnlyList<string> classNames)
    {
        int classes = classNames.Count;
        var table = new Table().Border(TableBorder.Simple).Title("Confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn("class");
        for (int p = 0; p < classes; p++) table.AddColumn(p.ToString(), c => c.RightAligned());
        table.AddColumn("recall", c => c.RightAligned());
        for (int t = 0; t < classes; t++)
        {
            var row = new List<string> { t.ToString() };
            int total = 0;
            for (int p = 0; p < classes; p++)
            {
                int n = counts[t, p];
                total += n;
                row.Add(n == 0 ? "[grey]·[/]" : t == p ? $"[green]{n}[/]" : $"[red]{n}[/]");
            }

            row.Add(total == 0 ? "-" : $"{100.0 * counts[t, t] / total:F1}%");
            table.AddRow(row.ToArray());
        }

        // Classes by number in the table (it must fit 80 columns), by name underneath.
        if (Enumerable.Range(0, classes).All(c => classNames[c] == c.ToString())) return table;
        return new Rows(table, new Text(string.Join(" · ", classNames.Select((name, c) => $"{c} {name}"))));
    }

    /// <summary>
    /// A grey-scale image as text, two image rows per line (terminal cells are about twice as tall as wide),
    /// darker shades for stronger pixels.
    /// </summary>
    public static string ImageArt(ReadOnlySpan<float> pixels, int side)
    {
        const string shades = " .:-=+*#%@";
        var text = new StringBuilder((side + 1) * (side / 2 + 1));
        for (int y = 0; y < side; y += 2)
        {
            for (int x = 0; x < side; x++)
            {
                float v = pixels[y * side + x];
                if (y + 1 < side) v = 0.5f * (v + pixels[(y + 1) * side + x]);
                text.Append(shades[Math.Clamp((int)(v * shades.Length), 0, shades.Length - 1)]);
            }

            if (y + 2 < side) text.Append('\n');
        }

        return text.ToString();
    }

    public static string Percent(double fraction) => double.IsNaN(fraction) ? "-" : $"{100 * fraction:F2}%";
}
