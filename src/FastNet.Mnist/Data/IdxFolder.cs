using FastNet.Data;

namespace FastNet.Mnist.Data;

/// <summary>
/// A folder with the four files of the MNIST family under their standard names (train-images-idx3-ubyte,
/// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each plain or gzip-compressed (.gz).
/// </summary>
internal static class IdxFolder
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    private static readonly string[] s_names = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>Whether all four files are in <paramref name="folder"/>.</summary>
    public static bool HasAll(string folder) => s_names.All(name => Find(folder, name) is not null);

    /// <summary>Reads the train and test sets; a missing or malformed file is a <see cref="DemoException"/> naming it.</summary>
    public static (Dataset Train, Dataset Test) Read(string folder)
    {
        string[] missing = s_names.Where(name => Find(folder, name) is null).ToArray();
        if (missing.Length > 0)
            throw new DemoException($"{folder} lacks {string.Join(", ", missing)} (plain or .gz); the folder needs all four MNIST-format IDX files.");
        try
        {
            Dataset train = IdxReader.ReadDataset(Find(folder, TrainImages)!, Find(folder, TrainLabels)!);
            Dataset test = IdxReader.ReadDataset(Find(folder, TestImages)!, Find(folder, TestLabels)!);
            if (train.FeatureCount != test.FeatureCount)
                throw new DemoException($"{folder}: training images have {train.FeatureCount} pixels, test images {test.FeatureCount}.");
            return (train, test);
        }
        catch (InvalidDataException e)
        {
            throw new DemoException(e.Message);
        }
    }

    private static string? Find(string folder, string name)
    {
        string plain = Path.Combine(folder, name), gzip = plain + ".gz";
        return File.Exists(plain) ? plain : File.Exists(gzip) ? gzip : null;
    }
}
