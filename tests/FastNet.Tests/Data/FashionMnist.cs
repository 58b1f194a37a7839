using FastNet.Data;

namespace FastNet.Tests.Data;

/// <summary>
/// Debian's dataset-fashion-mnist (60k train, 10k test IDX gz files); CI installs it. FASTNET_FASHION_MNIST_DIR
/// points the tests at another copy.
/// </summary>
internal static class FashionMnist
{
    public static readonly string Directory =
        Environment.GetEnvironmentVariable("FASTNET_FASHION_MNIST_DIR") ?? "/usr/share/datasets/fashion-mnist";

    private static readonly Lazy<(Dataset Train, Dataset Test)?> s_sets = new(() =>
    {
        string Path(string name) => System.IO.Path.Combine(Directory, name);
        if (!File.Exists(Path("train-images-idx3-ubyte.gz"))) return null;
        return (IdxReader.ReadDataset(Path("train-images-idx3-ubyte.gz"), Path("train-labels-idx1-ubyte.gz")),
                IdxReader.ReadDataset(Path("t10k-images-idx3-ubyte.gz"), Path("t10k-labels-idx1-ubyte.gz")));
    });

    /// <summary>The data, or a skip with the reason (Xunit.SkippableFact shows it) when the package is missing.</summary>
    public static (Dataset Train, Dataset Test) LoadOrSkip()
    {
        var sets = s_sets.Value;
        Skip.If(sets is null, $"Fashion-MNIST is not installed ({Directory}); run 'apt-get install dataset-fashion-mnist'.");
        return sets!.Value;
    }
}
